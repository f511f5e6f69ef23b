//! XStream's coding of element names: `_` is written `__` and `$` is
//! written `_-` (so `versions_delta` goes on the wire as `versions__delta`
//! and a metadata key `a$b` as `<a_-b>`).

/// A key as it goes on the wire, if the result is an XML name (without a
/// namespace prefix); `None` for a key no element can carry, like `1a`,
/// `a b` or `a:b`.
pub(super) fn encode(key: &str) -> Option<String> {
    let mut name = String::with_capacity(key.len() + 2);
    for c in key.chars() {
        match c {
            '_' => name.push_str("__"),
            '$' => name.push_str("_-"),
            c => name.push(c),
        }
    }
    is_name(&name).then_some(name)
}

/// A name as read from the wire, back to its key. A `_` that starts
/// neither `__` nor `_-` stays as it is.
pub(super) fn decode(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('_', Some('_')) => {
                chars.next();
                key.push('_');
            }
            ('_', Some('-')) => {
                chars.next();
                key.push('$');
            }
            (c, _) => key.push(c),
        }
    }
    key
}

/// An XML 1.0 `Name` without `:`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}
