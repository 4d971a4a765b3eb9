//! The HTML a material returns is cleaned before it leaves the server,
//! whatever the guest emitted: no script, no event-handler attributes, no
//! `javascript:` URLs, no frames, and inline styles limited to a few
//! presentational properties (no positioning, no URLs). Markup for forms and
//! media that materials need is kept.

use std::collections::HashSet;
use std::sync::OnceLock;

use ammonia::Builder;

fn builder() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = Builder::default();
        b.add_tags([
            "form",
            "input",
            "label",
            "select",
            "option",
            "textarea",
            "button",
            "fieldset",
            "legend",
            "section",
            "article",
            "header",
            "footer",
            "figure",
            "figcaption",
            "picture",
            "source",
        ]);
        b.add_generic_attributes([
            "class",
            "role",
            "id",
            "aria-label",
            "aria-hidden",
            "aria-disabled",
            "aria-describedby",
            "title",
            "style",
        ]);
        b.filter_style_properties(HashSet::from([
            "color",
            "background-color",
            "text-align",
            "font-weight",
            "font-style",
            "font-size",
            "object-fit",
            "padding",
            "margin",
            "border-radius",
            "max-width",
            "width",
            "gap",
        ]));
        b.add_tag_attributes("a", ["href", "target"]);
        b.add_tag_attributes("img", ["src", "alt", "width", "height", "loading"]);
        b.add_tag_attributes("source", ["srcset", "type", "media"]);
        b.add_tag_attributes("form", ["action", "method"]);
        b.add_tag_attributes(
            "input",
            [
                "type",
                "name",
                "value",
                "placeholder",
                "required",
                "disabled",
                "checked",
                "min",
                "max",
                "minlength",
                "maxlength",
                "pattern",
                "autocomplete",
            ],
        );
        b.add_tag_attributes(
            "textarea",
            ["name", "placeholder", "required", "rows", "maxlength"],
        );
        b.add_tag_attributes("select", ["name", "required"]);
        b.add_tag_attributes("option", ["value", "selected"]);
        b.add_tag_attributes("label", ["for"]);
        b.add_tag_attributes("button", ["type", "name", "value", "disabled"]);
        b.url_schemes(HashSet::from(["http", "https", "mailto"]));
        b.link_rel(Some("noopener noreferrer"));
        b.id_prefix(Some("m-"));
        b
    })
}

/// `html` with everything that could run or restyle the page removed.
pub fn clean(html: &str) -> String {
    builder().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let dirty = r#"<div class="x" onclick="steal()"><script>alert(1)</script><a href="javascript:alert(2)">a</a><img src="x" onerror="boom()"><iframe src="https://evil.example"></iframe><p style="position:fixed">t</p></div>"#;
        let cleaned = clean(dirty);
        for bad in [
            "onclick",
            "<script",
            "alert(",
            "javascript:",
            "onerror",
            "<iframe",
            "position",
        ] {
            assert!(!cleaned.contains(bad), "{bad} survived: {cleaned}");
        }
        assert!(cleaned.contains(r#"class="x""#), "{cleaned}");
    }

    #[test]
    fn presentational_styles_are_kept() {
        let cleaned =
            clean(r#"<h1 style="text-align:center;color:#ff0000;position:absolute">Hi</h1>"#);
        assert!(
            cleaned.contains("text-align:center") && cleaned.contains("color:#ff0000"),
            "{cleaned}"
        );
        assert!(!cleaned.contains("position"), "{cleaned}");
    }

    #[test]
    fn form_markup_is_kept() {
        let html = r#"<form><label for="e">Email</label><input type="email" name="e" required><button type="submit">Go</button></form>"#;
        let cleaned = clean(html);
        assert!(
            cleaned.contains(r#"<input type="email" name="e" required"#),
            "{cleaned}"
        );
        assert!(cleaned.contains("<button"), "{cleaned}");
    }
}
