//! Rendering a page into HTML, and the cache of rendered pages.
//!
//! A page revision pins every node to a material version, and a material is
//! a pure function of its props, so a revision renders to the same HTML
//! every time: it is rendered once and kept (bounded by
//! `[materials] page_cache_bytes`, least recently used out first).
//! Concurrent first views of a revision share one render. A render in which
//! a node failed (shown as a placeholder) is not kept: the next view tries
//! again.

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::Node;
use crate::materials::Materials;
use crate::materials::structure::Role;

/// A page's rendered body.
#[derive(Debug)]
pub struct Body {
    /// The nodes' HTML.
    pub html: String,
    /// Whether a node is marked for the page runtime (a form, or a node
    /// with events): the page then needs the runtime.
    pub marked: bool,
}

/// Rendered pages by `(page id, revision)`.
#[derive(Clone)]
pub struct PageCache {
    pages: moka::future::Cache<(String, i64), Arc<Body>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("entries", &self.pages.entry_count())
            .finish_non_exhaustive()
    }
}

/// A render with a failed node: shown, not cached.
#[derive(Debug)]
struct Partial(Arc<Body>);

impl PageCache {
    /// A cache holding at most `bytes` of rendered HTML.
    pub fn new(bytes: u64) -> Self {
        Self {
            pages: moka::future::Cache::builder()
                .max_capacity(bytes)
                .weigher(|key: &(String, i64), body: &Arc<Body>| {
                    u32::try_from(key.0.len() + body.html.len()).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The body of page `id` at `revision`, rendered from `nodes` unless
    /// cached.
    pub async fn body(
        &self,
        materials: &Materials,
        id: &str,
        revision: i64,
        nodes: &[Node],
    ) -> Arc<Body> {
        let rendered = self
            .pages
            .try_get_with((id.to_owned(), revision), async {
                let out = render_nodes(materials, nodes).await;
                let body = Arc::new(Body {
                    html: out.html,
                    marked: out.marked,
                });
                if out.complete {
                    Ok(body)
                } else {
                    Err(Partial(body))
                }
            })
            .await;
        match rendered {
            Ok(body) => body,
            Err(partial) => partial.0.clone(),
        }
    }
}

/// `text` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Puts `children` into the slot `name` of `html`: inside the element that
/// carries `data-hangar-slot="NAME"` (the sanitiser serialised it, so no
/// attribute value holds a `>`). A material that did not mark the slot for
/// these props gets the children after its HTML, so nothing placed is lost.
pub fn fill_slot(html: &mut String, name: &str, children: &str) {
    let marker = format!(r#"data-hangar-slot="{name}""#);
    match html
        .find(&marker)
        .and_then(|at| html[at..].find('>').map(|end| at + end + 1))
    {
        Some(inside) => html.insert_str(inside, children),
        None => html.push_str(&format!(r#"<div class="hm-children">{children}</div>"#)),
    }
}

/// What rendering nodes gave.
struct Rendered {
    html: String,
    /// Every node rendered.
    complete: bool,
    /// A node was marked for the page runtime.
    marked: bool,
}

/// Renders nodes in order; a node that cannot be rendered becomes a visible
/// placeholder so the rest of the page still shows. A node with an id that
/// is a form or has events is marked for the page's runtime (`data-node`,
/// `data-form`).
fn render_nodes<'a>(materials: &'a Materials, nodes: &'a [Node]) -> BoxFuture<'a, Rendered> {
    async move {
        let mut html = String::new();
        let mut complete = true;
        let mut marked = false;
        for node in nodes {
            let rendered = async {
                let loaded = materials.load_pinned(&node.material, &node.version).await?;
                let html = materials.render(&loaded, &node.props).await?;
                Ok::<_, crate::materials::MaterialError>((html, loaded.info.structure.role))
            }
            .await;
            let (mut inner, role) = match rendered {
                Ok(rendered) => rendered,
                Err(err) => {
                    complete = false;
                    tracing::warn!(material = %node.material, version = %node.version, error = %err, "page node not rendered");
                    (
                        format!(r#"<div class="hm-unavailable">{}</div>"#, escape(&err.to_string())),
                        Role::Content,
                    )
                }
            };
            for (name, children) in &node.slots {
                let below = render_nodes(materials, children).await;
                complete &= below.complete;
                marked |= below.marked;
                fill_slot(&mut inner, name, &below.html);
            }
            let children = if node.children.is_empty() {
                String::new()
            } else {
                let below = render_nodes(materials, &node.children).await;
                complete &= below.complete;
                marked |= below.marked;
                format!(r#"<div class="hm-children">{}</div>"#, below.html)
            };
            let mut marks = String::new();
            if let Some(id) = node
                .id
                .as_deref()
                .filter(|_| role == Role::Form || !node.events.is_empty())
            {
                marked = true;
                marks.push_str(&format!(r#" data-node="{}""#, escape(id)));
                if role == Role::Form {
                    marks.push_str(r#" data-form="""#);
                }
            }
            html.push_str(&format!(
                r#"<div class="hm-node" data-material="{}" data-version="{}"{marks}>{inner}{children}</div>"#,
                escape(&node.material),
                escape(&node.version)
            ));
        }
        Rendered {
            html,
            complete,
            marked,
        }
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::fill_slot;

    #[test]
    fn children_go_inside_their_slot_or_after_the_html() {
        let mut html =
            r#"<article><div class="x" data-hangar-slot="body"></div></article>"#.to_owned();
        fill_slot(&mut html, "body", "<p>child</p>");
        assert_eq!(
            html,
            r#"<article><div class="x" data-hangar-slot="body"><p>child</p></div></article>"#
        );
        fill_slot(&mut html, "side", "<p>lost?</p>");
        assert!(html.ends_with(r#"<div class="hm-children"><p>lost?</p></div>"#));
    }
}
