//! HTML → clean text: the article body as paragraphs, with source offsets.
//!
//! Owns: choosing the body (`<article>`, `<main>`, `<body>`), dropping boilerplate
//! (script, style, nav, header, footer, aside, forms, hidden elements), block structure, and
//! aligning the parsed DOM's text (scraper/html5ever, which keeps no offsets) back to the
//! source by scanning it for text outside markup. Must not touch files or decoding.

use std::ops::Range;

use scraper::{ElementRef, Html, Node};

use super::textmap::{OffsetMap, Sep, TextBuilder};

/// Elements whose whole subtree is dropped.
#[rustfmt::skip]
const DROP: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "aside", "footer", "form", "button", "select",
    "option", "svg", "math", "iframe", "canvas", "object", "embed", "audio", "video", "head",
    "title", "dialog", "textarea", "input",
];
/// Elements that start and end a paragraph.
#[rustfmt::skip]
const BLOCK: &[&str] = &[
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "html", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "tfoot", "thead", "ul",
];
/// Elements whose content the scanner skips as raw text.
#[rustfmt::skip]
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    "plaintext",
];

/// One unit of the DOM walk: a separator, or a text node's content.
enum Item {
    Sep(Sep),
    Text(String),
}

/// Nesting deeper than this (estimated from the tags) is read without a DOM: the parser's
/// scope checks walk the stack of open elements, so tens of thousands of unclosed tags
/// would cost time quadratic in their number.
pub(super) const MAX_DEPTH: usize = 1000;

/// Void elements, and elements whose end tag the parser supplies (a second `<p>` or `<li>`
/// closes the first): neither deepens the tree.
#[rustfmt::skip]
const NO_DEPTH: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody",
    "tfoot", "colgroup", "caption", "rb", "rt", "rtc", "rp", "html", "head", "body",
];

/// Appends the article text of the HTML `src` (starting at decoded offset `base`) to `b`.
/// Returns false when the page nests deeper than [`MAX_DEPTH`] and was read as text with
/// its markup removed (no DOM, no boilerplate removal).
pub(super) fn extract(src: &str, base: usize, b: &mut TextBuilder) -> bool {
    if nesting_depth(src) > MAX_DEPTH {
        extract_flat(src, base, b);
        return false;
    }
    extract_dom(src, base, b);
    true
}

/// The deepest nesting of elements that the tags alone imply, in one linear pass.
fn nesting_depth(src: &str) -> usize {
    let bytes = src.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(p) = bytes.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        let at = i + p;
        let Some(end) = markup_end(src, at) else {
            i = at + 1;
            continue;
        };
        let tag = &bytes[at..end];
        if tag.starts_with(b"</") {
            depth = depth.saturating_sub(1);
        } else if tag.get(1).is_some_and(u8::is_ascii_alphabetic) {
            let name: String = tag[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase() as char)
                .collect();
            let head_end = tag.iter().position(|&c| c == b'>').unwrap_or(tag.len());
            let self_closing = head_end > 0 && tag[head_end - 1] == b'/';
            if !self_closing && !NO_DEPTH.contains(&name.as_str()) {
                depth += 1;
                max = max.max(depth);
            }
        }
        i = end.max(at + 1);
    }
    max
}

/// The text outside markup (scripts, styles and comments skipped), markup read as a space.
fn extract_flat(src: &str, base: usize, b: &mut TextBuilder) {
    let stream = scan(src, base);
    let mut start = 0;
    for (i, _) in stream.0.match_indices('\0') {
        if i > start {
            b.copy_words(&stream, start..i);
        }
        b.sep(Sep::Space);
        start = i + 1;
    }
    if start < stream.0.len() {
        b.copy_words(&stream, start..stream.0.len());
    }
}

fn extract_dom(src: &str, base: usize, b: &mut TextBuilder) {
    let doc = Html::parse_document(src);
    let items = walk(&doc);
    let stream = scan(src, base);
    // Align each text item with the stream, in order; `\0` marks where markup was.
    let mut cursor = 0usize;
    let mut found: Vec<Option<Range<usize>>> = Vec::with_capacity(items.len());
    for item in &items {
        let Item::Text(t) = item else {
            found.push(None);
            continue;
        };
        let hit = locate(&stream.0, t, cursor);
        if let Some(r) = &hit {
            cursor = cursor.max(r.end);
        }
        found.push(hit);
    }
    let mut prev_end = 0usize;
    for (i, item) in items.iter().enumerate() {
        match (item, &found[i]) {
            (Item::Sep(s), _) => b.sep(*s),
            (Item::Text(t), Some(r)) => {
                if t.starts_with(char::is_whitespace) {
                    b.sep(Sep::Space);
                }
                b.copy_words(&stream, r.clone());
                if t.ends_with(char::is_whitespace) {
                    b.sep(Sep::Space);
                }
                prev_end = r.end;
            }
            (Item::Text(t), None) => {
                // Not found (parser-moved or oddly encoded text): map it onto the gap
                // between its found neighbours.
                let next = found[i + 1..].iter().flatten().next().map_or(stream.0.len(), |r| r.start);
                let gap = stream.1.source_span(prev_end..next.max(prev_end));
                if t.starts_with(char::is_whitespace) {
                    b.sep(Sep::Space);
                }
                b.replaced(gap, &t.split_whitespace().collect::<Vec<_>>().join(" "));
                if t.ends_with(char::is_whitespace) {
                    b.sep(Sep::Space);
                }
            }
        }
    }
}

/// Finds text node `t` in the stream at or after `cursor`: first bounded by markup on both
/// sides, then anywhere after the cursor, then anywhere. Returns the range of `t`'s
/// non-whitespace span.
fn locate(stream: &str, t: &str, cursor: usize) -> Option<Range<usize>> {
    let core = t.trim();
    if core.is_empty() {
        return None;
    }
    let after = stream.get(cursor..)?;
    let exact = format!("\0{t}\0");
    if let Some(i) = after.find(&exact) {
        let lead = t.len() - t.trim_start().len();
        let start = cursor + i + 1 + lead;
        return Some(start..start + core.len());
    }
    if let Some(i) = after.find(core) {
        return Some(cursor + i..cursor + i + core.len());
    }
    stream.find(core).map(|i| i..i + core.len())
}

/// Walks the chosen body in document order (iteratively: nesting depth is unbounded),
/// producing separators and text.
fn walk(doc: &Html) -> Vec<Item> {
    let root = choose_root(doc);
    let mut items = Vec::new();
    let mut node = root;
    'outer: loop {
        if open(node, &mut items) {
            if let Some(child) = node.first_child() {
                node = child;
                continue;
            }
            close(node, &mut items);
        }
        loop {
            if node.id() == root.id() {
                break 'outer;
            }
            if let Some(next) = node.next_sibling() {
                node = next;
                continue 'outer;
            }
            match node.parent() {
                Some(parent) => {
                    node = parent;
                    close(node, &mut items);
                }
                None => break 'outer,
            }
        }
    }
    items
}

/// Emits what starts at `node`; false when its subtree is dropped.
fn open(node: ego_node::Ref<'_>, items: &mut Vec<Item>) -> bool {
    match node.value() {
        Node::Text(t) => items.push(Item::Text(t.to_string())),
        Node::Element(e) => {
            if ElementRef::wrap(node).is_some_and(dropped) {
                return false;
            }
            boundary(e.name(), items);
        }
        _ => {}
    }
    true
}

/// Emits what ends at `node`.
fn close(node: ego_node::Ref<'_>, items: &mut Vec<Item>) {
    if let Node::Element(e) = node.value() {
        if e.name() != "br" {
            boundary(e.name(), items);
        }
    }
}

/// The separator an element's start or end implies.
fn boundary(name: &str, items: &mut Vec<Item>) {
    let sep = match name {
        "br" | "tr" => Sep::Line,
        "td" | "th" => Sep::Space,
        _ if BLOCK.contains(&name) => Sep::Para,
        _ => return,
    };
    items.push(Item::Sep(sep));
}

/// Names for scraper's tree node type without depending on ego-tree directly.
mod ego_node {
    pub(super) type Ref<'a> = <scraper::ElementRef<'a> as std::ops::Deref>::Target;
}

/// Whether an element's subtree is boilerplate or hidden.
fn dropped(el: ElementRef) -> bool {
    let e = el.value();
    let name = e.name();
    if DROP.contains(&name) || e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(role) = e.attr("role") {
        if matches!(role, "navigation" | "complementary" | "contentinfo" | "search") {
            return true;
        }
    }
    if let Some(style) = e.attr("style") {
        let s: String = style.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        if s.contains("display:none") {
            return true;
        }
    }
    // A page header is boilerplate, but an article's own header often holds its headline.
    name == "header" && !el.descendent_elements().any(|d| d.value().name() == "h1")
}

/// The article body: the largest `<article>` when it holds a fair share of the page, else
/// `<main>`, else `<body>`, else the whole document.
fn choose_root(doc: &Html) -> ego_node::Ref<'_> {
    let text_len = |el: ElementRef| el.text().map(|t| t.trim().len()).sum::<usize>();
    let (mut article, mut main, mut body) = (None, None, None);
    for node in doc.tree.root().descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        match el.value().name() {
            "article" => {
                let n = text_len(el);
                if article.is_none_or(|(m, _)| n > m) {
                    article = Some((n, el));
                }
            }
            "main" if main.is_none() => main = Some(el),
            "body" if body.is_none() => body = Some(el),
            _ => {}
        }
    }
    let body_len = body.map_or(0, text_len);
    if let Some((n, el)) = article {
        if n > 0 && n * 10 >= body_len * 3 {
            return *el;
        }
    }
    main.or(body).map_or(doc.tree.root(), |el| *el)
}

/// Scans the source for text outside markup, decoding entities the way the parser does, so
/// that DOM text can be found in it. Markup becomes `\0` markers.
fn scan(src: &str, base: usize) -> (String, OffsetMap) {
    let bytes = src.as_bytes();
    let mut b = TextBuilder::new();
    let (mut i, mut run) = (0usize, 0usize);
    while i < bytes.len() {
        let c = bytes[i];
        let step = match c {
            b'<' => markup_end(src, i).map(|end| (end, None)),
            b'&' => entity(src, i).map(|(len, s)| (i + len, Some(s))),
            b'\r' => Some((i + 1, Some(if bytes.get(i + 1) == Some(&b'\n') { String::new() } else { "\n".into() }))),
            _ => None,
        };
        match step {
            None => i += 1,
            Some((end, decoded)) => {
                b.verbatim(base + run, &src[run..i]);
                match decoded {
                    None => b.marker("\0"),
                    Some(s) => b.replaced(base + i..base + end, &s),
                }
                i = end;
                run = end;
            }
        }
    }
    b.verbatim(base + run, &src[run..]);
    b.finish()
}

/// Where the markup (tag, comment, doctype) starting at `<` ends; `None` if `<` is text.
/// The content of raw-text elements (script, style, …) is skipped with their start tag.
fn markup_end(src: &str, i: usize) -> Option<usize> {
    let rest = &src.as_bytes()[i..];
    let find = |pat: &str, from: usize| src.get(i + from..).and_then(|s| s.find(pat)).map(|p| i + from + p);
    if rest.starts_with(b"<!--") {
        return Some(find("-->", 4).map_or(src.len(), |p| p + 3));
    }
    match rest.get(1) {
        Some(b'!' | b'?') => return Some(find(">", 1).map_or(src.len(), |p| p + 1)),
        Some(b'/') if rest.get(2).is_some_and(u8::is_ascii_alphabetic) => {
            return Some(find(">", 2).map_or(src.len(), |p| p + 1));
        }
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return None,
    }
    let name_len = rest[1..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    let name = src[i + 1..i + 1 + name_len].to_ascii_lowercase();
    // Find the closing '>' outside quoted attribute values.
    let mut j = 1 + name_len;
    let mut end = None;
    while j < rest.len() {
        match rest[j] {
            b'>' => {
                end = Some(i + j + 1);
                break;
            }
            b'=' => {
                j += 1;
                while j < rest.len() && rest[j].is_ascii_whitespace() {
                    j += 1;
                }
                if let Some(&q @ (b'"' | b'\'')) = rest.get(j) {
                    j += rest[j + 1..].iter().position(|&c| c == q).map_or(rest.len(), |p| p + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    let end = end.unwrap_or(src.len());
    if !RAW_TEXT.contains(&name.as_str()) {
        return Some(end);
    }
    if name == "plaintext" {
        return Some(src.len());
    }
    // The raw text runs to the matching end tag (any case), or to the end of the source.
    let bytes = src.as_bytes();
    let mut from = end;
    while let Some(p) = src.get(from..).and_then(|s| s.find("</")) {
        let at = from + p;
        let tag = bytes.get(at + 2..at + 2 + name.len());
        if tag.is_some_and(|t| t.eq_ignore_ascii_case(name.as_bytes())) {
            return Some(at);
        }
        from = at + 2;
    }
    Some(src.len())
}

/// Decodes the character reference at `&`: (source length, text). `None` if it is not one.
fn entity(src: &str, i: usize) -> Option<(usize, String)> {
    let rest = &src.as_bytes()[i + 1..];
    if rest.first() == Some(&b'#') {
        let hex = matches!(rest.get(1), Some(b'x' | b'X'));
        let digits = &rest[if hex { 2 } else { 1 }..];
        let n = digits.iter().take_while(|c| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() }).count();
        if n == 0 {
            return None;
        }
        let text = std::str::from_utf8(&digits[..n]).ok()?;
        let value = u32::from_str_radix(text, if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        let len = 1 + (if hex { 2 } else { 1 }) + n + usize::from(digits.get(n) == Some(&b';'));
        let c = match value {
            0x80..=0x9F => C1[(value - 0x80) as usize],
            _ => char::from_u32(value).filter(|&c| c != '\0').unwrap_or('\u{FFFD}'),
        };
        return Some((len, c.to_string()));
    }
    let n = rest.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    let name = std::str::from_utf8(&rest[..n]).ok()?;
    let semi = rest.get(n) == Some(&b';');
    let &(_, value, legacy) = NAMED.iter().find(|(k, _, _)| *k == name)?;
    (semi || legacy).then(|| (1 + n + usize::from(semi), value.to_string()))
}

/// Windows-1252 meanings of numeric references 0x80–0x9F, as HTML decodes them.
#[rustfmt::skip]
const C1: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// Common named references: (name, text, also valid without ';').
#[rustfmt::skip]
const NAMED: &[(&str, &str, bool)] = &[
    ("amp", "&", true), ("lt", "<", true), ("gt", ">", true), ("quot", "\"", true),
    ("apos", "'", false), ("nbsp", "\u{a0}", true), ("copy", "©", true), ("reg", "®", true),
    ("trade", "™", false), ("mdash", "—", false), ("ndash", "–", false), ("hellip", "…", false),
    ("lsquo", "‘", false), ("rsquo", "’", false), ("ldquo", "“", false), ("rdquo", "”", false),
    ("sbquo", "‚", false), ("bdquo", "„", false), ("laquo", "«", true), ("raquo", "»", true),
    ("lsaquo", "‹", false), ("rsaquo", "›", false), ("prime", "′", false), ("Prime", "″", false),
    ("bull", "•", false), ("middot", "·", true), ("deg", "°", true), ("plusmn", "±", true),
    ("times", "×", true), ("divide", "÷", true), ("minus", "−", false), ("frac12", "½", true),
    ("frac14", "¼", true), ("frac34", "¾", true), ("sup2", "²", true), ("sup3", "³", true),
    ("euro", "€", false), ("pound", "£", true), ("yen", "¥", true), ("cent", "¢", true),
    ("sect", "§", true), ("para", "¶", true), ("dagger", "†", false), ("Dagger", "‡", false),
    ("shy", "\u{ad}", true), ("thinsp", "\u{2009}", false), ("ensp", "\u{2002}", false),
    ("emsp", "\u{2003}", false), ("zwj", "\u{200d}", false), ("zwnj", "\u{200c}", false),
    ("larr", "←", false), ("rarr", "→", false), ("iexcl", "¡", true), ("iquest", "¿", true),
    ("aacute", "á", true), ("Aacute", "Á", true), ("agrave", "à", true), ("Agrave", "À", true),
    ("acirc", "â", true), ("auml", "ä", true), ("Auml", "Ä", true), ("aring", "å", true),
    ("atilde", "ã", true), ("aelig", "æ", true), ("ccedil", "ç", true), ("Ccedil", "Ç", true),
    ("eacute", "é", true), ("Eacute", "É", true), ("egrave", "è", true), ("Egrave", "È", true),
    ("ecirc", "ê", true), ("euml", "ë", true), ("iacute", "í", true), ("igrave", "ì", true),
    ("icirc", "î", true), ("iuml", "ï", true), ("ntilde", "ñ", true), ("Ntilde", "Ñ", true),
    ("oacute", "ó", true), ("Oacute", "Ó", true), ("ograve", "ò", true), ("ocirc", "ô", true),
    ("ouml", "ö", true), ("Ouml", "Ö", true), ("otilde", "õ", true), ("oslash", "ø", true),
    ("Oslash", "Ø", true), ("uacute", "ú", true), ("ugrave", "ù", true), ("ucirc", "û", true),
    ("uuml", "ü", true), ("Uuml", "Ü", true), ("yacute", "ý", true), ("yuml", "ÿ", false),
    ("szlig", "ß", true), ("scaron", "š", false), ("Scaron", "Š", false), ("zcaron", "ž", false),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> (String, OffsetMap) {
        let mut b = TextBuilder::new();
        extract(src, 0, &mut b);
        b.finish()
    }

    #[test]
    fn article_body_without_boilerplate() {
        let html = "<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head><body>\
            <nav><a href=/>Home</a></nav><header><p>Site banner</p></header>\
            <article><header><h1>Big   News</h1></header><p>First <b>para</b>graph, AT&amp;T &amp; co.</p>\
            <script>var x = '<p>no</p>';</script><p>Second<br>line &#8212; here</p>\
            <aside>Related</aside><ul><li>one</li><li>two</li></ul></article>\
            <footer>Copyright</footer></body></html>";
        let (text, map) = run(html);
        assert_eq!(text, "Big News\n\nFirst paragraph, AT&T & co.\n\nSecond\nline — here\n\none\n\ntwo");
        let at = text.find("AT&T").unwrap();
        assert_eq!(&html[map.source_span(at..at + 4)], "AT&amp;T");
        let p = text.find("First").unwrap();
        assert_eq!(&html[map.source_span(p..p + 15)], "First <b>para</b>graph");
        let d = text.find('—').unwrap();
        assert_eq!(&html[map.source_span(d..d + '—'.len_utf8())], "&#8212;");
    }

    #[test]
    fn falls_back_to_main_then_body() {
        let (t, _) = run("<body><div>menu</div><main><p>Main text.</p></main></body>");
        assert_eq!(t, "Main text.");
        let (t, _) = run("<p>Just <i>a</i> fragment &unknownentity; here</p>");
        assert_eq!(t, "Just a fragment &unknownentity; here");
    }

    #[test]
    fn case_crlf_and_moved_text() {
        let html = "<BODY>\r\n<SCRIPT>x = '<p>no</p>'</Script><P CLASS=\"a>b\">One\r\ntwo.</P>\
                    <table>stray<tr><td>cell</td></tr></table><div style=\"display: none\">hid</div></BODY>";
        let (text, map) = run(html);
        assert_eq!(text, "One two.\n\nstray\n\ncell");
        assert_eq!(&html[map.source_span(0..8)], "One\r\ntwo.");
        let at = text.find("stray").unwrap();
        assert_eq!(&html[map.source_span(at..at + 5)], "stray");
    }

    #[test]
    fn deep_unclosed_nesting_is_read_flat_in_linear_time() {
        let deep = format!(
            "<html><body><p>Opening words here.</p>{}Deep text &amp; more.</body></html>",
            "<div><span>".repeat(50_000)
        );
        assert!(nesting_depth(&deep) > MAX_DEPTH);
        let t0 = std::time::Instant::now();
        let mut b = TextBuilder::new();
        assert!(!extract(&deep, 0, &mut b));
        let (text, map) = b.finish();
        assert!(t0.elapsed().as_secs_f64() < 2.0, "{:?}", t0.elapsed());
        assert_eq!(text, "Opening words here. Deep text & more.");
        let at = text.find("Deep").unwrap();
        let span = map.source_span(at..text.len());
        assert_eq!(&deep[span], "Deep text &amp; more.");
        // Ordinary pages, with unclosed <p> and <li> and void tags, are not deep.
        let page = format!("<ul>{}</ul>{}", "<li>item<br><img src=x>".repeat(5_000), "<p>para ".repeat(5_000));
        assert!(nesting_depth(&page) < 10);
    }

    #[test]
    fn odd_markup_does_not_panic() {
        for s in [
            "<",
            "<a",
            "<!--",
            "&#",
            "&#x;",
            "&#99999999999;",
            "<p>x<script>",
            "<tr>a<td>b</table>",
            "<a href='x>y'>q</a>",
        ] {
            let _ = run(s);
        }
        let (t, _) = run("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>");
        assert_eq!(t, "a b\nc");
    }
}
