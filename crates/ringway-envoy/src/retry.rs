//! Envoy's `RetryPolicy` (a route action's or a virtual host's) as
//! ringway's, and back.

use envoy_types::pb::envoy::config::route::v3::RetryPolicy as EnvoyRetryPolicy;
use envoy_types::pb::envoy::config::route::v3::retry_policy::RetryBackOff;
use envoy_types::pb::google::protobuf::UInt32Value;
use ringway_config::model::RetryPolicy;
use ringway_retry::{BackOff, RetryOn};

use crate::duration;
use crate::resources::proto_duration;

type Refused = (String, String);

/// `policy` at `field` as ringway's. The fields ringway does not act on
/// yet are refused by the field table before this runs.
pub(crate) fn convert(policy: &EnvoyRetryPolicy, field: &str) -> Result<RetryPolicy, Refused> {
    let retry_on = RetryOn::parse(&policy.retry_on)
        .map_err(|unknown| (format!("{field}.retry_on"), unknown.to_string()))?;
    let (back_off_base, back_off_max) = match &policy.retry_back_off {
        None => (BackOff::DEFAULT_BASE, None),
        Some(b) => back_off(b, &format!("{field}.retry_back_off"))?,
    };
    let mut retriable_status_codes = Vec::with_capacity(policy.retriable_status_codes.len());
    for (i, code) in policy.retriable_status_codes.iter().enumerate() {
        match u16::try_from(*code) {
            Ok(code) if (100..=599).contains(&code) => retriable_status_codes.push(code),
            _ => {
                return Err((
                    format!("{field}.retriable_status_codes[{i}]"),
                    "must be an HTTP status (100 to 599)".into(),
                ));
            }
        }
    }
    Ok(RetryPolicy {
        retry_on,
        num_retries: policy
            .num_retries
            .as_ref()
            .map_or(RetryPolicy::DEFAULT_NUM_RETRIES, |n| n.value),
        back_off_base,
        back_off_max,
        retriable_status_codes,
    })
}

fn back_off(
    b: &RetryBackOff,
    field: &str,
) -> Result<(std::time::Duration, Option<std::time::Duration>), Refused> {
    let positive = |d: &Option<envoy_types::pb::google::protobuf::Duration>, name: &str| {
        d.as_ref()
            .map(|d| {
                duration(d)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| (format!("{field}.{name}"), "must be positive".to_string()))
            })
            .transpose()
    };
    let base = positive(&b.base_interval, "base_interval")?
        .ok_or_else(|| (format!("{field}.base_interval"), "required".to_string()))?;
    let max = positive(&b.max_interval, "max_interval")?;
    if max.is_some_and(|m| m < base) {
        return Err((
            format!("{field}.max_interval"),
            "must not be less than base_interval".into(),
        ));
    }
    Ok((base, max))
}

/// ringway's policy as Envoy's.
pub(crate) fn render(policy: &RetryPolicy) -> EnvoyRetryPolicy {
    EnvoyRetryPolicy {
        retry_on: policy.retry_on.to_string(),
        num_retries: Some(UInt32Value {
            value: policy.num_retries,
        }),
        retry_back_off: Some(RetryBackOff {
            base_interval: Some(proto_duration(policy.back_off_base)),
            max_interval: policy.back_off_max.map(proto_duration),
        }),
        retriable_status_codes: policy
            .retriable_status_codes
            .iter()
            .map(|c| u32::from(*c))
            .collect(),
        ..Default::default()
    }
}
