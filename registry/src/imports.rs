//! What a component may import: the interfaces the host links. A component
//! importing anything else would publish fine and then fail to load on
//! every host, after a compile that can take a minute; the registry
//! refuses it at publish instead, naming the interface and the usual fix.
//! The host checks its linker against this list (its tests link a
//! component importing each one), so the two cannot drift apart.

/// Packages the host links, each with the version series it links and its
/// interfaces. Versions are matched as the component model's linker
/// matches them: any `0.2.x` import is satisfied by the host's `0.2`.
pub const LINKED: &[(&str, &str, &[&str])] = &[
    ("wasi:io", "0.2", &["error", "poll", "streams"]),
    ("wasi:clocks", "0.2", &["monotonic-clock", "wall-clock"]),
    (
        "wasi:random",
        "0.2",
        &["random", "insecure", "insecure-seed"],
    ),
    (
        "wasi:cli",
        "0.2",
        &[
            "environment",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ],
    ),
    ("wasi:filesystem", "0.2", &["types", "preopens"]),
    (
        "wasi:sockets",
        "0.2",
        &[
            "network",
            "instance-network",
            "tcp",
            "tcp-create-socket",
            "udp",
            "udp-create-socket",
            "ip-name-lookup",
        ],
    ),
    ("hangar:plugin", "0.1", &["types", "host"]),
    ("hangar:plugin", "0.2", &["types", "host"]),
];

/// Whether the host links `import` (`wasi:io/poll@0.2.3`).
pub fn is_linked(import: &str) -> bool {
    let (path, version) = import.split_once('@').unwrap_or((import, ""));
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    LINKED.iter().any(|(p, series, interfaces)| {
        *p == package
            && interfaces.contains(&interface)
            && (version == *series || version.starts_with(&format!("{series}.")))
    })
}

/// What to do about an import the host does not link, for the toolchains
/// that add one by default.
pub fn hint(import: &str) -> &'static str {
    if import.starts_with("wasi:http/") {
        "plugins get no network: ComponentizeJS adds wasi:http by default, build with \
         `--disable http --disable fetch-event` (jco componentize -d http -d fetch-event); \
         in Python, do not import the wasi:http bindings"
    } else if import.starts_with("wasi:") {
        "the host links WASI 0.2 (io, clocks, random, cli, filesystem, sockets) and no other \
         version or interface: build against WASI 0.2 (Rust: the wasm32-wasip2 target)"
    } else {
        "a plugin imports only WASI 0.2 and hangar:plugin@0.2 or 0.1 (`host`, `types`): \
         generate the bindings from wit/plugin.wit"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_interfaces_match_by_version_series() {
        assert!(is_linked("wasi:io/poll@0.2.0"));
        assert!(is_linked("wasi:cli/environment@0.2.10"));
        assert!(is_linked("hangar:plugin/host@0.1.0"));
        assert!(!is_linked("wasi:io/poll@0.3.0"));
        assert!(!is_linked("wasi:io/poll@0.20.0"));
        assert!(!is_linked("wasi:http/types@0.2.10"));
        assert!(!is_linked("wasi:io/poll"));
        assert!(!is_linked("env"));
        assert!(hint("wasi:http/outgoing-handler@0.2.0").contains("-d http"));
    }
}
