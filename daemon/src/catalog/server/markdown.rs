//! SKILL.md as HTML for the catalog's page, safe to show whatever the
//! skill's author wrote. pulldown-cmark renders CommonMark; before it
//! writes anything, every event that could carry markup or a script is
//! turned into text or made inert:
//! - raw HTML (blocks, inline tags, comments) becomes text, shown as
//!   written, so a hidden `<!-- instruction -->` is visible, not hidden;
//! - a link whose target is not `http:`, `https:` or `mailto:` (a
//!   `javascript:` or `data:` URL, a relative path meaning nothing here)
//!   points nowhere;
//! - an image becomes a link to it: the page loads nothing from elsewhere;
//! - characters that hide or reorder text (bidirectional controls,
//!   zero-width characters, Unicode tags) are shown as `<U+202E>`.
//!
//! The page also sends a Content-Security-Policy that allows no script at
//! all, so a mistake here still runs nothing.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// `markdown` as an HTML fragment.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let events = Parser::new_ext(markdown, options).map(inert);
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// One event, with nothing in it that a browser would run or load.
fn inert(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(visible(html)),
        Event::Text(text) => Event::Text(visible(text)),
        Event::Code(code) => Event::Code(visible(code)),
        // An HTML block is shown as code: its text, as written.
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(
            CowStr::Borrowed("html"),
        ))),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::CodeBlock),
        // The front matter is shown as YAML.
        Event::Start(Tag::MetadataBlock(_)) => Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(
            CowStr::Borrowed("yaml"),
        ))),
        Event::End(TagEnd::MetadataBlock(_)) => Event::End(TagEnd::CodeBlock),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url, title, ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: safe_url(dest_url),
            title,
            id: CowStr::Borrowed(""),
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    }
}

/// `url` when it is `http:`, `https:` or `mailto:`, else `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    if ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
    {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

/// `text` with each character that hides or reorders text, and each
/// control character but tab and newline, written as `<U+XXXX>`.
pub fn visible(text: CowStr<'_>) -> CowStr<'_> {
    if !text.chars().any(hidden) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    CowStr::from(out)
}

fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || crate::catalog::entry::is_invisible(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_shown_as_text() {
        let html = to_html(
            "# Title\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> and <!-- hidden -->.\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;!-- hidden --&gt;"), "{html}");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
    }

    #[test]
    fn only_web_and_mail_links_point_anywhere() {
        let html = to_html(
            "[a](javascript:alert(1)) [b](JaVaScRiPt:x) [c](data:text/html,x) [d](https://example.com/x) [e](mailto:a@b.c) [f](docs/x.md)",
        );
        assert!(!html.to_ascii_lowercase().contains("javascript"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains(r#"href="https://example.com/x""#), "{html}");
        assert!(html.contains(r#"href="mailto:a@b.c""#), "{html}");
        assert_eq!(html.matches(r##"href="#""##).count(), 4, "{html}");
    }

    #[test]
    fn images_become_links_and_hidden_characters_show() {
        let html = to_html("![logo](https://example.com/l.png) abc\u{202e}def\u{200b}\u{e0041}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com/l.png">logo</a>"#),
            "{html}"
        );
        assert!(
            html.contains("abc&lt;U+202E&gt;def&lt;U+200B&gt;&lt;U+E0041&gt;"),
            "{html}"
        );
    }

    #[test]
    fn front_matter_is_shown_as_yaml() {
        let html = to_html("---\nname: x\ndescription: <b>y</b>\n---\n\nBody\n");
        assert!(html.contains("language-yaml"), "{html}");
        assert!(html.contains("description: &lt;b&gt;y&lt;/b&gt;"), "{html}");
        assert!(html.contains("<p>Body</p>"), "{html}");
    }
}
