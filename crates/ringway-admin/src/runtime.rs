//! Runtime layers, as `/runtime` shows them and `/runtime_modify` changes
//! them: a bootstrap's `layered_runtime` (static layers with their values,
//! other layers by name) and the admin layer.
//!
//! ringway reads no runtime key yet: the values are shown and stored, not
//! acted on.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The name of the admin layer when the bootstrap names none.
const DEFAULT_ADMIN_LAYER: &str = "admin";

/// The runtime's layers, lowest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Runtime {
    layers: Vec<Layer>,
}

#[derive(Debug, Clone, PartialEq)]
struct Layer {
    name: String,
    admin: bool,
    values: BTreeMap<String, String>,
}

impl Default for Runtime {
    /// One empty admin layer (what a configuration without
    /// `layered_runtime` gets).
    fn default() -> Self {
        Self {
            layers: vec![Layer {
                name: DEFAULT_ADMIN_LAYER.into(),
                admin: true,
                values: BTreeMap::new(),
            }],
        }
    }
}

impl Runtime {
    /// The layers of a bootstrap's `layered_runtime` (Envoy's JSON), static
    /// layers with their values flattened to dotted keys as Envoy does;
    /// without `layered_runtime`, [`Runtime::default`].
    pub fn from_bootstrap(bootstrap: Option<&Value>) -> Self {
        let Some(layers) = bootstrap
            .and_then(|b| b.get("layered_runtime"))
            .and_then(|r| r.get("layers"))
            .and_then(Value::as_array)
        else {
            return Self::default();
        };
        let layers = layers
            .iter()
            .map(|l| {
                let mut values = BTreeMap::new();
                if let Some(layer) = l.get("static_layer") {
                    flatten("", layer, &mut values);
                }
                Layer {
                    name: l
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    admin: l.get("admin_layer").is_some(),
                    values,
                }
            })
            .collect();
        Self { layers }
    }

    /// Envoy's `/runtime_modify`: sets each key in the admin layer; an
    /// empty value removes the key from it. Without an admin layer, the
    /// error Envoy gives.
    pub fn modify(&mut self, changes: &[(String, String)]) -> Result<(), String> {
        let Some(admin) = self.layers.iter_mut().find(|l| l.admin) else {
            return Err("No admin layer specified".into());
        };
        for (key, value) in changes {
            if value.is_empty() {
                admin.values.remove(key);
            } else {
                admin.values.insert(key.clone(), value.clone());
            }
        }
        Ok(())
    }

    /// Envoy's `/runtime` JSON: the layer names, and per key its value in
    /// each layer (empty where the layer lacks it) and the final value
    /// (that of the highest layer having it).
    pub fn to_json(&self) -> Value {
        let keys: std::collections::BTreeSet<&String> =
            self.layers.iter().flat_map(|l| l.values.keys()).collect();
        let entries: serde_json::Map<String, Value> = keys
            .into_iter()
            .map(|key| {
                let values: Vec<&str> = self
                    .layers
                    .iter()
                    .map(|l| l.values.get(key).map_or("", String::as_str))
                    .collect();
                let last = values.iter().rev().find(|v| !v.is_empty()).copied();
                (
                    key.clone(),
                    json!({ "layer_values": values, "final_value": last.unwrap_or("") }),
                )
            })
            .collect();
        json!({
            "layers": self.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            "entries": entries,
        })
    }
}

/// Nested objects become dotted keys; scalars their text.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    let text = match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
            return;
        }
        Value::String(s) => s.clone(),
        Value::Null => return,
        other => other.to_string(),
    };
    out.insert(prefix.to_owned(), text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_layers_flatten_and_admin_overrides() {
        let bootstrap = json!({"layered_runtime": {"layers": [
            {"name": "base", "static_layer": {"health_check": {"min_interval": 5}, "feature": "on", "flag": true}},
            {"name": "disk", "disk_layer": {"symlink_root": "/srv/runtime"}},
            {"name": "override", "admin_layer": {}},
        ]}});
        let mut runtime = Runtime::from_bootstrap(Some(&bootstrap));
        runtime
            .modify(&[("feature".into(), "off".into()), ("new".into(), "1".into())])
            .unwrap_or_else(|e| panic!("{e}"));
        let out = runtime.to_json();
        assert_eq!(out["layers"], json!(["base", "disk", "override"]));
        assert_eq!(
            out["entries"]["health_check.min_interval"],
            json!({"layer_values": ["5", "", ""], "final_value": "5"})
        );
        assert_eq!(
            out["entries"]["feature"],
            json!({"layer_values": ["on", "", "off"], "final_value": "off"})
        );
        assert_eq!(out["entries"]["flag"]["final_value"], "true");
        // An empty value removes the admin layer's key.
        runtime
            .modify(&[("feature".into(), String::new())])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runtime.to_json()["entries"]["feature"]["final_value"], "on");
    }

    #[test]
    fn without_an_admin_layer_modify_fails() {
        let bootstrap = json!({"layered_runtime": {"layers": [{"name": "s", "static_layer": {}}]}});
        let mut runtime = Runtime::from_bootstrap(Some(&bootstrap));
        assert_eq!(
            runtime.modify(&[("a".into(), "b".into())]),
            Err("No admin layer specified".into())
        );
        let mut default = Runtime::from_bootstrap(None);
        assert!(default.modify(&[("a".into(), "b".into())]).is_ok());
        assert_eq!(default.to_json()["layers"], json!(["admin"]));
    }
}
