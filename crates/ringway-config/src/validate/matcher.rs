//! Header and query parameter conditions of a route's `match`, and the
//! `string_match` both share.

use super::{Ctx, action, value};
use crate::model::{
    HeaderMatch, HeaderValueMatch, QueryParameterMatch, QueryParameterValueMatch, StringMatch,
    StringMatchKind,
};
use crate::wire;

/// Envoy's limit on a query parameter name.
const MAX_QUERY_NAME: usize = 1024;

/// Each entry of a list, all or nothing (`field` is the list's path).
pub(super) fn each<W, M>(
    ctx: &mut Ctx<'_>,
    field: &str,
    list: &[W],
    mut check: impl FnMut(&mut Ctx<'_>, &str, &W) -> Option<M>,
) -> Option<Vec<M>> {
    let mut out = Some(Vec::with_capacity(list.len()));
    for (i, wire) in list.iter().enumerate() {
        match (check(ctx, &format!("{field}[{i}]"), wire), &mut out) {
            (Some(m), Some(all)) => all.push(m),
            _ => out = None,
        }
    }
    out
}

pub(super) fn header_match(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::HeaderMatch,
) -> Option<HeaderMatch> {
    let name = ctx.check(format!("{field}.name"), value::header_name(&wire.name));
    let conditions = [
        ("exact", wire.exact.is_some()),
        ("prefix", wire.prefix.is_some()),
        ("suffix", wire.suffix.is_some()),
        ("contains", wire.contains.is_some()),
        ("regex", wire.regex.is_some()),
        ("string_match", wire.string_match.is_some()),
        ("range_match", wire.range_match.is_some()),
        ("present", wire.present.is_some()),
        ("present_match", wire.present_match.is_some()),
    ];
    let short = |kind: StringMatchKind| {
        Some(HeaderValueMatch::String(StringMatch {
            kind,
            ignore_case: false,
        }))
    };
    let value = if conditions.iter().filter(|(_, given)| *given).count() > 1 {
        let given = action::present(&conditions);
        ctx.error(field, format!("has {given}: choose at most one"));
        None
    } else if let Some(exact) = &wire.exact {
        short(StringMatchKind::Exact(exact.clone()))
    } else if let Some(prefix) = &wire.prefix {
        short(StringMatchKind::Prefix(prefix.clone()))
    } else if let Some(suffix) = &wire.suffix {
        not_empty(ctx, &format!("{field}.suffix"), suffix)
            .and_then(|()| short(StringMatchKind::Suffix(suffix.clone())))
    } else if let Some(contains) = &wire.contains {
        not_empty(ctx, &format!("{field}.contains"), contains)
            .and_then(|()| short(StringMatchKind::Contains(contains.clone())))
    } else if let Some(regex) = &wire.regex {
        ctx.check(format!("{field}.regex"), value::pattern(regex))
            .and_then(|p| short(StringMatchKind::SafeRegex(p)))
    } else if let Some(string) = &wire.string_match {
        string_match(ctx, &format!("{field}.string_match"), string).map(HeaderValueMatch::String)
    } else if let Some(range) = &wire.range_match {
        if range.start < range.end {
            Some(HeaderValueMatch::Range {
                start: range.start,
                end: range.end,
            })
        } else {
            ctx.error(
                format!("{field}.range_match"),
                format!(
                    "start {} is not below end {} (the end is excluded): nothing would match",
                    range.start, range.end
                ),
            );
            None
        }
    } else if wire.present == Some(false) {
        ctx.error(
            format!("{field}.present"),
            "`present: false` is not a condition; to match requests without the header, write `present_match: false` (or `present: true` and `invert: true`)",
        );
        None
    } else {
        Some(HeaderValueMatch::Present(
            wire.present_match.unwrap_or(true),
        ))
    };
    if wire.invert && wire.invert_match {
        ctx.error(
            field,
            "has `invert` and `invert_match`: choose one (`invert` also matches when the header is missing)",
        );
        return None;
    }
    // ringway's `invert` holds when the condition does not, a missing
    // header included: in Envoy's terms, a missing header is judged empty.
    let value_condition = matches!(
        value,
        Some(HeaderValueMatch::String(_) | HeaderValueMatch::Range { .. })
    );
    Some(HeaderMatch {
        name: name?,
        value: value?,
        invert_match: wire.invert || wire.invert_match,
        treat_missing_header_as_empty: wire.treat_missing_header_as_empty
            || (wire.invert && value_condition),
    })
}

pub(super) fn query_parameter(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::QueryParameterMatcher,
) -> Option<QueryParameterMatch> {
    let name = if wire.name.is_empty() {
        ctx.error(format!("{field}.name"), "must not be empty");
        None
    } else if wire.name.len() > MAX_QUERY_NAME {
        ctx.error(
            format!("{field}.name"),
            format!("is longer than {MAX_QUERY_NAME} bytes"),
        );
        None
    } else {
        Some(wire.name.clone())
    };
    let value = match (&wire.string_match, wire.present_match) {
        (Some(_), Some(_)) => {
            ctx.error(field, "has `string_match` and `present_match`: choose one");
            None
        }
        (Some(string), None) => string_match(ctx, &format!("{field}.string_match"), string)
            .map(QueryParameterValueMatch::String),
        (None, present) => Some(QueryParameterValueMatch::Present(present.unwrap_or(true))),
    };
    Some(QueryParameterMatch {
        name: name?,
        value: value?,
    })
}

pub(super) fn string_match(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::StringMatcher,
) -> Option<StringMatch> {
    let forms = [
        ("exact", wire.exact.is_some()),
        ("prefix", wire.prefix.is_some()),
        ("suffix", wire.suffix.is_some()),
        ("contains", wire.contains.is_some()),
        ("safe_regex", wire.safe_regex.is_some()),
    ];
    let kind = match forms.iter().filter(|(_, given)| *given).count() {
        0 => {
            ctx.error(
                field,
                "needs one of `exact`, `prefix`, `suffix`, `contains` or `safe_regex`",
            );
            None
        }
        1 => {
            if let Some(exact) = &wire.exact {
                Some(StringMatchKind::Exact(exact.clone()))
            } else if let Some(regex) = &wire.safe_regex {
                ctx.check(
                    format!("{field}.safe_regex.regex"),
                    value::pattern(&regex.regex),
                )
                .map(StringMatchKind::SafeRegex)
            } else {
                let (name, text, make): (_, _, fn(String) -> StringMatchKind) =
                    match (&wire.prefix, &wire.suffix, &wire.contains) {
                        (Some(p), _, _) => ("prefix", p, StringMatchKind::Prefix),
                        (_, Some(s), _) => ("suffix", s, StringMatchKind::Suffix),
                        (_, _, Some(c)) => ("contains", c, StringMatchKind::Contains),
                        _ => return None,
                    };
                not_empty(ctx, &format!("{field}.{name}"), text).map(|()| make(text.clone()))
            }
        }
        _ => {
            let given = action::present(&forms);
            ctx.error(field, format!("has {given}: choose one"));
            None
        }
    };
    Some(StringMatch {
        kind: kind?,
        ignore_case: wire.ignore_case,
    })
}

/// Envoy refuses an empty prefix, suffix or substring (it would match
/// anything: a presence condition says so plainly).
fn not_empty(ctx: &mut Ctx<'_>, field: &str, text: &str) -> Option<()> {
    if text.is_empty() {
        ctx.error(
            field,
            "must not be empty (to match any value, match on presence)",
        );
        return None;
    }
    Some(())
}
