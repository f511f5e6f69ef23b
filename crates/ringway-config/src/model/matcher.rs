//! Conditions on request headers and query parameters, and the path
//! rewrite by regular expression: the shapes of Envoy's
//! `config.route.v3.HeaderMatcher`, `QueryParameterMatcher`,
//! `type.matcher.v3.StringMatcher` and `RegexMatchAndSubstitute`.

use std::fmt;

use serde::Serialize;

use super::Pattern;

/// How a string is compared (Envoy's `StringMatcher`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringMatch {
    pub kind: StringMatchKind,
    /// ASCII case is ignored by `exact`, `prefix`, `suffix` and `contains`;
    /// `safe_regex` is unaffected (as in Envoy).
    pub ignore_case: bool,
}

/// The comparison of a [`StringMatch`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StringMatchKind {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Must match the whole value.
    SafeRegex(Pattern),
}

/// A condition on one request header (Envoy's `HeaderMatcher`).
///
/// A header sent more than once is judged by its first value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeaderMatch {
    /// Lower-case header name.
    pub name: String,
    pub value: HeaderValueMatch,
    /// The result is inverted, except that a missing header fails a value
    /// condition either way unless `treat_missing_header_as_empty` is set.
    pub invert_match: bool,
    /// A missing header is judged as an empty value by a value condition.
    pub treat_missing_header_as_empty: bool,
}

/// What a [`HeaderMatch`] checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderValueMatch {
    /// `present_match`: `true` matches when the header is there, `false`
    /// when it is not.
    Present(bool),
    /// `string_match` (and the short forms `exact`, `prefix`, `regex`, ...).
    String(StringMatch),
    /// `range_match`: the value is a base-10 integer in `start..end`.
    Range { start: i64, end: i64 },
}

/// A condition on one query parameter (Envoy's `QueryParameterMatcher`).
///
/// The query is the raw text after the first `?` of the request-target,
/// split on `&` into `key` or `key=value` pieces, not percent-decoded; a
/// key without `=` has an empty value and only a key's first value counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryParameterMatch {
    pub name: String,
    pub value: QueryParameterValueMatch,
}

/// What a [`QueryParameterMatch`] checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryParameterValueMatch {
    /// `present_match` (also what a matcher with neither field means):
    /// `true` matches when the key is there, `false` when it is not.
    Present(bool),
    /// `string_match`: the key is there and its first value matches.
    String(StringMatch),
}

/// Envoy's `regex_rewrite`: every match of `pattern` in the path (the
/// query is kept as it is) is replaced by `substitution`, in which `\0` to
/// `\9` stand for the capture groups and `\\` for a backslash (RE2's
/// syntax, as Envoy uses).
#[derive(Debug, Clone, Serialize)]
pub struct RegexRewrite {
    /// As written in the config: not anchored.
    pub pattern: String,
    pub substitution: String,
    #[serde(skip)]
    regex: regex::bytes::Regex,
    /// `substitution` in the `regex` crate's syntax (`${1}`, `$$`).
    #[serde(skip)]
    replacement: String,
}

/// Why a [`RegexRewrite`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexRewriteError {
    /// The pattern does not compile.
    Pattern(String),
    /// A backslash not followed by a digit or another backslash.
    Escape(usize),
    /// `\N` names a group the pattern does not have.
    Group { group: usize, groups: usize },
}

// === impl StringMatch ===

impl StringMatch {
    /// Whether `value` satisfies the comparison.
    pub fn matches(&self, value: &[u8]) -> bool {
        let fold = self.ignore_case;
        let eq = |a: &[u8], b: &[u8]| {
            if fold {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match &self.kind {
            StringMatchKind::Exact(s) => eq(value, s.as_bytes()),
            StringMatchKind::Prefix(s) => {
                value.len() >= s.len() && eq(&value[..s.len()], s.as_bytes())
            }
            StringMatchKind::Suffix(s) => {
                value.len() >= s.len() && eq(&value[value.len() - s.len()..], s.as_bytes())
            }
            StringMatchKind::Contains(s) => {
                let s = s.as_bytes();
                s.is_empty() || value.windows(s.len()).any(|w| eq(w, s))
            }
            StringMatchKind::SafeRegex(p) => p.is_match(value),
        }
    }
}

// === impl HeaderMatch ===

impl HeaderMatch {
    /// Whether the condition holds for a request whose header value is
    /// `value` (`None` when it has no such header).
    pub fn matches(&self, value: Option<&[u8]>) -> bool {
        match &self.value {
            HeaderValueMatch::Present(present) => {
                (value.is_some() == *present) != self.invert_match
            }
            HeaderValueMatch::String(string) => {
                let value = match value {
                    Some(v) => v,
                    None if self.treat_missing_header_as_empty => b"",
                    None => return false,
                };
                string.matches(value) != self.invert_match
            }
            HeaderValueMatch::Range { start, end } => {
                let value = match value {
                    Some(v) => v,
                    None if self.treat_missing_header_as_empty => b"",
                    None => return false,
                };
                let in_range = std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.trim().parse::<i64>().ok())
                    .is_some_and(|n| (*start..*end).contains(&n));
                in_range != self.invert_match
            }
        }
    }
}

// === impl QueryParameterMatch ===

impl QueryParameterMatch {
    /// Whether the condition holds for a request whose first value of the
    /// parameter is `value` (`None` when the key is absent).
    pub fn matches(&self, value: Option<&[u8]>) -> bool {
        match (&self.value, value) {
            (QueryParameterValueMatch::Present(present), v) => v.is_some() == *present,
            (QueryParameterValueMatch::String(string), Some(v)) => string.matches(v),
            (QueryParameterValueMatch::String(_), None) => false,
        }
    }
}

// === impl RegexRewrite ===

impl RegexRewrite {
    /// Compiles `pattern` (unanchored) and checks `substitution`.
    pub fn new(pattern: &str, substitution: &str) -> Result<Self, RegexRewriteError> {
        let regex = regex::bytes::Regex::new(pattern)
            .map_err(|e| RegexRewriteError::Pattern(e.to_string()))?;
        let groups = regex.captures_len() - 1;
        let mut replacement = String::with_capacity(substitution.len() + 8);
        let mut chars = substitution.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, '\\')) => replacement.push('\\'),
                    Some((_, d)) if d.is_ascii_digit() => {
                        let group = usize::from(d as u8 - b'0');
                        if group > groups {
                            return Err(RegexRewriteError::Group { group, groups });
                        }
                        replacement.push_str("${");
                        replacement.push(d);
                        replacement.push('}');
                    }
                    _ => return Err(RegexRewriteError::Escape(at)),
                },
                '$' => replacement.push_str("$$"),
                c => replacement.push(c),
            }
        }
        Ok(Self {
            pattern: pattern.to_owned(),
            substitution: substitution.to_owned(),
            regex,
            replacement,
        })
    }

    /// `path` with every match replaced, appended to `out`.
    pub fn rewrite_into(&self, path: &[u8], out: &mut Vec<u8>) {
        let mut last = 0;
        for caps in self.regex.captures_iter(path) {
            let Some(whole) = caps.get(0) else { continue };
            out.extend_from_slice(&path[last..whole.start()]);
            caps.expand(self.replacement.as_bytes(), out);
            last = whole.end();
        }
        out.extend_from_slice(&path[last..]);
    }
}

impl PartialEq for RegexRewrite {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.substitution == other.substitution
    }
}

impl fmt::Display for RegexRewriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pattern(e) => write!(f, "is not a valid regular expression: {e}"),
            Self::Escape(at) => write!(
                f,
                "has a `\\` at byte {at} not followed by a digit (a capture group) or `\\`"
            ),
            Self::Group { group, groups } => write!(
                f,
                "refers to group \\{group}, but the pattern has {groups} capture group(s)"
            ),
        }
    }
}

impl std::error::Error for RegexRewriteError {}

#[cfg(test)]
mod tests;
