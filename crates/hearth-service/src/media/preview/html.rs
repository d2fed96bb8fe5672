//! OpenGraph from an HTML page: the `og:*` meta tags, falling back to `<title>` and the meta
//! description when the page has none (as Synapse does).

use std::collections::BTreeMap;

/// Longest text value kept (Synapse cuts descriptions to 500 characters).
const MAX_TEXT: usize = 500;
/// Most meta tags read from one page.
const MAX_TAGS: usize = 100;

/// The OpenGraph properties of `html`, values as in the page (URLs not yet resolved).
pub(crate) fn parse_opengraph(html: &str) -> BTreeMap<String, String> {
    let mut og = BTreeMap::new();
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else { return og };
    let parser = dom.parser();
    let mut description = None;
    for tag in dom
        .query_selector("meta")
        .into_iter()
        .flatten()
        .filter_map(|h| h.get(parser).and_then(|n| n.as_tag()))
        .take(MAX_TAGS)
    {
        let attrs = tag.attributes();
        let attr = |name: &str| attrs.get(name).flatten().map(|v| v.as_utf8_str().into_owned());
        let (Some(key), Some(content)) =
            (attr("property").or_else(|| attr("name")), attr("content"))
        else {
            continue;
        };
        let content = clean(&content);
        if key.starts_with("og:") {
            og.entry(key).or_insert(content);
        } else if key.eq_ignore_ascii_case("description") {
            description.get_or_insert(content);
        }
    }
    if !og.contains_key("og:title") {
        let title = dom
            .query_selector("title")
            .and_then(|mut q| q.next())
            .and_then(|h| h.get(parser))
            .map(|n| clean(&n.inner_text(parser)));
        if let Some(title) = title.filter(|t| !t.is_empty()) {
            og.insert("og:title".to_owned(), title);
        }
    }
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        og.entry("og:description".to_owned()).or_insert(description);
    }
    og
}

/// Decode character references, collapse whitespace, cut to a sane length.
fn clean(raw: &str) -> String {
    let decoded = decode_entities(raw);
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => format!("{}…", &collapsed[..end]),
        None => collapsed,
    }
}

/// The character references that appear in meta content: the XML five and numeric ones.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                n if n.starts_with("#x") || n.starts_with("#X") => {
                    u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
                }
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opengraph_with_fallbacks() {
        let page = r#"<html><head><title> Fallback  title </title>
            <meta property="og:description" content="Tom &amp; Jerry &#x263A;">
            <meta property="og:image" content="/img.png">
            <meta name="description" content="ignored: og wins">
            </head><body>hi</body></html>"#;
        let og = parse_opengraph(page);
        assert_eq!(og["og:title"], "Fallback title");
        assert_eq!(og["og:description"], "Tom & Jerry ☺");
        assert_eq!(og["og:image"], "/img.png");
        let og = parse_opengraph(r#"<meta name="description" content="plain">"#);
        assert_eq!(og["og:description"], "plain");
        assert!(parse_opengraph("\u{0}<<<>>>&&&;").is_empty());
    }
}
