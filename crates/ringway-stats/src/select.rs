//! Which stats a rendering keeps: Envoy's `/stats?filter=REGEX` (on the
//! full dotted name) and `/stats?usedonly`.

use std::fmt;

use crate::metric::Value;

/// A choice of stats. [`Select::ALL`] keeps every one.
#[derive(Clone, Copy, Default)]
pub struct Select<'a> {
    /// Only stats that have been written: counters and gauges not at zero,
    /// histograms with a sample (ringway keeps no separate "used" flag, so
    /// a gauge back at zero, or a counter after `/reset_counters`, counts
    /// as unused).
    pub used_only: bool,
    /// Keeps the stats whose full Envoy name (`cluster.a.upstream_rq_total`)
    /// it accepts.
    pub name: Option<&'a dyn Fn(&str) -> bool>,
}

impl Select<'_> {
    /// Every stat.
    pub const ALL: Select<'static> = Select {
        used_only: false,
        name: None,
    };

    pub(crate) fn keeps(&self, name: &str, value: Value<'_>) -> bool {
        (!self.used_only || value.used()) && self.name.is_none_or(|f| f(name))
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("used_only", &self.used_only)
            .field("name", &self.name.map(|_| "fn"))
            .finish()
    }
}
