//! Markdown → clean text, via pulldown-cmark's offset iterator.
//!
//! Owns: which Markdown constructs keep their text (paragraphs, headings, list items, quotes,
//! tables, link and emphasis text, inline code) and which are dropped (code blocks, images,
//! raw HTML, front matter). Must not touch files, decoding or the offset map's internals.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::textmap::{Sep, TextBuilder};

/// Appends the text of the Markdown `src` (which starts at decoded offset `base`) to `b`.
pub(super) fn extract(src: &str, base: usize, b: &mut TextBuilder) {
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    // Depth inside constructs whose text is dropped.
    let mut skip = 0usize;
    for (event, range) in Parser::new_ext(src, opts).into_offset_iter() {
        match event {
            Event::Start(tag) => match tag {
                Tag::CodeBlock(_) | Tag::Image { .. } | Tag::MetadataBlock(_) | Tag::HtmlBlock => skip += 1,
                Tag::TableHead | Tag::TableRow => b.sep(Sep::Line),
                Tag::TableCell => b.sep(Sep::Space),
                Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::BlockQuote(_)
                | Tag::List(_)
                | Tag::Item
                | Tag::FootnoteDefinition(_)
                | Tag::Table(_)
                | Tag::DefinitionList
                | Tag::DefinitionListTitle
                | Tag::DefinitionListDefinition => b.sep(Sep::Para),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::CodeBlock | TagEnd::Image | TagEnd::MetadataBlock(_) | TagEnd::HtmlBlock => {
                    skip = skip.saturating_sub(1);
                    if tag != TagEnd::Image {
                        b.sep(Sep::Para);
                    }
                }
                TagEnd::TableHead | TagEnd::TableRow => b.sep(Sep::Line),
                TagEnd::TableCell => b.sep(Sep::Space),
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::List(_)
                | TagEnd::Item
                | TagEnd::FootnoteDefinition
                | TagEnd::Table
                | TagEnd::DefinitionList
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition => b.sep(Sep::Para),
                _ => {}
            },
            Event::Text(t) | Event::Code(t) if skip == 0 => push(b, src, base, range, &t),
            Event::SoftBreak if skip == 0 => b.sep(Sep::Space),
            Event::HardBreak if skip == 0 => b.sep(Sep::Line),
            Event::Rule => b.sep(Sep::Para),
            _ => {}
        }
    }
}

/// Appends event text `t` found at `range` of `src`: verbatim where the source holds it as
/// is, else (escapes, entities) as a replacement for the whole range.
fn push(b: &mut TextBuilder, src: &str, base: usize, range: Range<usize>, t: &str) {
    let Some(slice) = src.get(range.clone()) else {
        return;
    };
    if let Some(i) = slice.find(t) {
        b.words(base + range.start + i, t);
    } else if !t.trim().is_empty() {
        let src_range = base + range.start..base + range.end;
        if t.starts_with(char::is_whitespace) {
            b.sep(Sep::Space);
        }
        b.replaced(src_range, &t.split_whitespace().collect::<Vec<_>>().join(" "));
        if t.ends_with(char::is_whitespace) {
            b.sep(Sep::Space);
        }
    } else {
        b.sep(Sep::Space);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> String {
        let mut b = TextBuilder::new();
        extract(src, 0, &mut b);
        b.finish().0
    }

    #[test]
    fn strips_markup_keeps_text() {
        let md = "---\ntitle: Front\n---\n# The *Title*\n\nSome **bold** and [a link](http://x.y) text\nwrapped here.\n\n- one\n- two `code`\n\n```rust\nfn main() {}\n```\n\n![alt text](img.png)\n\n> quoted\n";
        assert_eq!(run(md), "The Title\n\nSome bold and a link text wrapped here.\n\none\n\ntwo code\n\nquoted");
    }

    #[test]
    fn tables_and_escapes() {
        let md = "| a | b |\n|---|---|\n| 1 | 2 |\n\nAT&amp;T \\*not em\\*";
        assert_eq!(run(md), "a b\n1 2\n\nAT&T *not em*");
    }
}
