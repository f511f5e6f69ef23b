//! The `stats_block!` macro: one list of (kind, name, help) per block
//! generates the live per-core struct, its `Send` snapshot, the merge and
//! the table the renderers walk.

use crate::metric::{Kind, Value};

/// One stat of a block, as seen by the renderers.
#[derive(Debug)]
pub(crate) struct StatDef<S: 'static> {
    /// The Envoy stat name without the block prefix (`upstream_rq_total`).
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub value: fn(&S) -> Value<'_>,
}

/// A snapshot block type: what the generic merge and renderers need.
pub(crate) trait Block: Clone + 'static {
    /// First segment of the Envoy name: `http` in `http.<name>.<stat>`.
    const ENVOY_PREFIX: &'static str;
    /// Prometheus label carrying the block's name.
    const PROMETHEUS_LABEL: &'static str;
    /// Every stat, in declaration order.
    const STATS: &'static [StatDef<Self>];
    fn merge_from(&mut self, other: &Self);
}

macro_rules! live_type {
    (counter) => {
        $crate::metric::Counter
    };
    (gauge) => {
        $crate::metric::Gauge
    };
    (config_gauge) => {
        $crate::metric::ConfigGauge
    };
    (histogram) => {
        $crate::histogram::LatencyHistogram
    };
}

macro_rules! snapshot_type {
    (counter) => {
        u64
    };
    (gauge) => {
        i64
    };
    (config_gauge) => {
        i64
    };
    (histogram) => {
        $crate::histogram::HistogramSnapshot
    };
}

/// A stat's Envoy name: the field's name unless the block gives one (for
/// dotted names like `http2.rx_reset`).
macro_rules! stat_name {
    ($name:ident) => {
        stringify!($name)
    };
    ($name:ident, $stat:literal) => {
        $stat
    };
}

macro_rules! stats_block {
    (
        $(#[$live_meta:meta])*
        live $live:ident;
        $(#[$snap_meta:meta])*
        snapshot $snap:ident;
        envoy_prefix $envoy:literal;
        prometheus_label $label:literal;
        stats {
            $( $kind:ident $name:ident $(as $stat:literal)? : $help:literal, )+
        }
    ) => {
        $(#[$live_meta])*
        #[derive(Debug, Default)]
        pub struct $live {
            $( #[doc = $help] pub $name: $crate::block::live_type!($kind), )+
        }

        $(#[$snap_meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $snap {
            $( #[doc = $help] pub $name: $crate::block::snapshot_type!($kind), )+
        }

        impl $live {
            /// A plain copy of every value, to send to the admin thread.
            pub fn snapshot(&self) -> $snap {
                $snap {
                    $( $name: $crate::metric::Metric::snapshot(&self.$name), )+
                }
            }

            /// Zeroes every counter (gauges and histograms keep theirs).
            pub fn reset_counters(&self) {
                $( $crate::metric::Metric::reset_counter(&self.$name); )+
            }
        }

        impl $snap {
            /// Adds `other` (another worker's copy) into `self`.
            pub fn merge(&mut self, other: &Self) {
                $( <$crate::block::live_type!($kind) as $crate::metric::Metric>::merge(
                    &mut self.$name,
                    &other.$name,
                ); )+
            }
        }

        impl $crate::block::Block for $snap {
            const ENVOY_PREFIX: &'static str = $envoy;
            const PROMETHEUS_LABEL: &'static str = $label;
            const STATS: &'static [$crate::block::StatDef<Self>] = &[
                $( $crate::block::StatDef {
                    name: $crate::block::stat_name!($name $(, $stat)?),
                    help: $help,
                    kind: <$crate::block::live_type!($kind) as $crate::metric::Metric>::KIND,
                    value: {
                        fn get(s: &$snap) -> $crate::metric::Value<'_> {
                            <$crate::block::live_type!($kind) as $crate::metric::Metric>::value(&s.$name)
                        }
                        get
                    },
                }, )+
            ];

            fn merge_from(&mut self, other: &Self) {
                self.merge(other);
            }
        }
    };
}

pub(crate) use {live_type, snapshot_type, stat_name, stats_block};
