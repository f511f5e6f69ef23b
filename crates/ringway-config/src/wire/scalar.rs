//! Wire values that may be written more than one way, each with a
//! hand-written visitor so that a mistake gets a precise message (serde's
//! `untagged` would only say "did not match any variant").

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A duration as written: `"5s"`, or a bare number that validation rejects
/// with a hint to add a unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DurationText {
    Text(String),
    /// A number with no unit, as written.
    Bare(String),
}

/// `cpu_set`: a Linux CPU list string (`"0-1,3"`) or a list of CPU numbers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CpuSetText {
    Text(String),
    List(Vec<u64>),
}

/// An endpoint: `"host:port"`, or `{ address: "host:port", weight: 2 }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EndpointText {
    pub address: String,
    pub weight: Option<u32>,
    /// Written as a mapping (errors then point at `.address`).
    pub mapping: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointMapping {
    address: String,
    weight: Option<u32>,
}

struct DurationVisitor;
struct CpuSetVisitor;
struct EndpointVisitor;

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

impl Visitor<'_> for DurationVisitor {
    type Value = DurationText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with a unit, like \"5s\" or \"250ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(DurationText::Text(v.to_owned()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(DurationText::Bare(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(DurationText::Bare(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(DurationText::Bare(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for CpuSetText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CpuSetVisitor)
    }
}

impl<'de> Visitor<'de> for CpuSetVisitor {
    type Value = CpuSetText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CPU list like \"0-3,6\" or a list of CPU numbers like [0, 1]")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(CpuSetText::Text(v.to_owned()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(CpuSetText::List(vec![v]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut cpus = Vec::new();
        while let Some(cpu) = seq.next_element::<u64>()? {
            cpus.push(cpu);
        }
        Ok(CpuSetText::List(cpus))
    }
}

impl<'de> Deserialize<'de> for EndpointText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EndpointVisitor)
    }
}

impl<'de> Visitor<'de> for EndpointVisitor {
    type Value = EndpointText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an endpoint: \"IP:port\", \"host:port\" or { address, weight }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(EndpointText {
            address: v.to_owned(),
            weight: None,
            mapping: false,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let EndpointMapping { address, weight } =
            EndpointMapping::deserialize(MapAccessDeserializer::new(map))?;
        Ok(EndpointText {
            address,
            weight,
            mapping: true,
        })
    }
}
