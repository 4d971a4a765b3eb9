//! Reading a server's `GET /metrics` (the Prometheus text format) in tests
//! and benchmarks.

use std::collections::HashMap;

/// Every sample of one scrape: `name{labels}` → value.
#[derive(Debug, Clone, Default)]
pub struct Scrape(pub HashMap<String, f64>);

impl Scrape {
    /// Scrapes `url` (a server's base URL).
    ///
    /// # Panics
    /// When the server does not answer `200` with the text format.
    pub async fn of(url: &str) -> Self {
        let response = reqwest::get(format!("{url}/metrics"))
            .await
            .expect("scrape /metrics");
        assert_eq!(response.status(), 200, "GET /metrics");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.expect("the scrape's body");
        Self(
            text.lines()
                .filter(|line| !line.starts_with('#') && !line.is_empty())
                .filter_map(|line| {
                    let (name, value) = line.rsplit_once(' ')?;
                    Some((name.to_owned(), value.parse().ok()?))
                })
                .collect(),
        )
    }

    /// One sample (`0` when absent).
    pub fn value(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(0.0)
    }

    /// Whether the scrape has the sample `name`.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The sum of the samples of `family` whose labels include each of
    /// `labels` (`key="value"`).
    pub fn sum(&self, family: &str, labels: &[&str]) -> f64 {
        self.0
            .iter()
            .filter(|(name, _)| {
                name.strip_prefix(family)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
                    && labels.iter().all(|l| name.contains(l))
            })
            .map(|(_, v)| v)
            .sum()
    }
}
