//! Wire shapes of the matchers and header settings named after Envoy's
//! fields: `string_match`, `query_parameters`, `regex_rewrite`,
//! `internal_address_config`.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a string match: a mapping with one of exact, prefix, suffix, contains or safe_regex, and ignore_case"
)]
pub(crate) struct StringMatcher {
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub contains: Option<String>,
    pub safe_regex: Option<RegexMatcher>,
    #[serde(default)]
    pub ignore_case: bool,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { regex: \"^/v[0-9]+\" }"
)]
pub(crate) struct RegexMatcher {
    pub regex: String,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a query parameter match: a mapping with name and string_match or present_match"
)]
pub(crate) struct QueryParameterMatcher {
    pub name: String,
    pub string_match: Option<StringMatcher>,
    pub present_match: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { pattern: { regex: \"^/old/(.*)$\" }, substitution: \"/new/\\\\1\" }"
)]
pub(crate) struct RegexRewrite {
    pub pattern: RegexMatcher,
    pub substitution: String,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { cidr_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }"
)]
pub(crate) struct InternalAddressConfig {
    #[serde(default)]
    pub cidr_ranges: Vec<CidrRange>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { address_prefix: 10.0.0.0, prefix_len: 8 }"
)]
pub(crate) struct CidrRange {
    pub address_prefix: String,
    pub prefix_len: Option<u32>,
}
