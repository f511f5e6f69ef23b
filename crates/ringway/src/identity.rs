//! The node identity: who this proxy is to its control plane (the xDS
//! stream's `node`) and in `/server_info`. As in Envoy, `--service-node`,
//! `--service-cluster` and `--service-zone` override the configuration's
//! `xds.node` field by field when given (and not empty).

use ringway_config::model::{Snapshot, Xds};

use crate::cli::Cli;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeIdentity {
    pub id: String,
    pub cluster: String,
    pub zone: String,
}

impl NodeIdentity {
    /// The file's `xds.node`, with the command line's values over it.
    pub fn new(cli: &Cli, snapshot: &Snapshot) -> Self {
        let file = snapshot.xds.as_ref();
        let pick = |flag: &Option<String>, from_file: Option<&String>| {
            flag.as_deref()
                .filter(|v| !v.is_empty())
                .or(from_file.map(String::as_str))
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            id: pick(&cli.service_node, file.map(|x| &x.node_id)),
            cluster: pick(&cli.service_cluster, file.map(|x| &x.node_cluster)),
            zone: pick(&cli.service_zone, file.map(|x| &x.node_zone)),
        }
    }

    /// The file's `xds` block with this identity in it; an error when the
    /// stream would go without a node id.
    pub fn apply(&self, xds: &Xds) -> Result<Xds, String> {
        if self.id.is_empty() {
            return Err(format!(
                "{}: xds.node.id is empty and --service-node is not given: the control plane tells proxies apart by it",
                xds.address()
            ));
        }
        Ok(Xds {
            node_id: self.id.clone(),
            node_cluster: self.cluster.clone(),
            node_zone: self.zone.clone(),
            ..xds.clone()
        })
    }
}
