//! Checking a `retry_policy`.

use ringway_retry::RetryOn;

use super::{Ctx, value};
use crate::model::RetryPolicy;
use crate::wire;

/// The policy at `field`, or `None` (errors recorded) when it is invalid.
pub(super) fn retry_policy(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::RetryPolicy,
) -> Option<RetryPolicy> {
    let retry_on = match RetryOn::parse(&wire.retry_on) {
        Ok(on) if on.is_empty() => {
            ctx.error(
                format!("{field}.retry_on"),
                "names no condition (for example \"5xx,reset\")",
            );
            None
        }
        Ok(on) => Some(on),
        Err(unknown) => {
            ctx.error(format!("{field}.retry_on"), unknown);
            None
        }
    };
    let (base, max) = match &wire.retry_back_off {
        None => (Some(ringway_retry::BackOff::DEFAULT_BASE), Some(None)),
        Some(b) => {
            let at = format!("{field}.retry_back_off");
            let base = ctx.check(
                format!("{at}.base_interval"),
                value::positive_duration(&b.base_interval),
            );
            let max = match &b.max_interval {
                None => Some(None),
                Some(m) => ctx
                    .check(format!("{at}.max_interval"), value::positive_duration(m))
                    .map(Some),
            };
            if let (Some(base), Some(Some(max))) = (base, max)
                && max < base
            {
                ctx.error(
                    format!("{at}.max_interval"),
                    "must not be less than base_interval",
                );
                return None;
            }
            (base, max)
        }
    };
    let mut codes_ok = true;
    for (i, code) in wire.retriable_status_codes.iter().enumerate() {
        if !(100..=599).contains(code) {
            ctx.error(
                format!("{field}.retriable_status_codes[{i}]"),
                "must be an HTTP status (100 to 599)",
            );
            codes_ok = false;
        }
    }
    Some(RetryPolicy {
        retry_on: retry_on?,
        num_retries: wire.num_retries.unwrap_or(RetryPolicy::DEFAULT_NUM_RETRIES),
        back_off_base: base?,
        back_off_max: max?,
        retriable_status_codes: codes_ok.then(|| wire.retriable_status_codes.clone())?,
    })
}
