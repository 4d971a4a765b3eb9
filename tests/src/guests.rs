//! The guest components, built from `plugins/` and `tests/guests/`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::repo_root;

/// Builds the guest workspace once per process; returns the folder holding
/// the `.wasm` files.
///
/// # Panics
/// When the build fails: every guest test needs it, and cargo's output
/// says why.
pub fn artifacts_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = repo_root();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
                .arg(root.join("plugins").join("Cargo.toml"))
                // Flags meant for the host build must not leak into the guests'.
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .env_remove("CARGO_TARGET_DIR")
                .status()
                .expect("cargo runs");
            assert!(
                status.success(),
                "building the guests failed (is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`)"
            );
            root.join("plugins/target/wasm32-wasip2/release")
        })
        .clone()
}

/// The bytes of the guest whose crate is `crate_name` (`keyword-moderation`,
/// `guest-misbehave`, ...).
///
/// # Panics
/// When the guest does not exist.
pub fn wasm(crate_name: &str) -> Vec<u8> {
    let path = artifacts_dir().join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|err| panic!("guest {}: {err}", path.display()))
}

/// A component whose only content is imports: each `(name, resources)`
/// an instance exporting those resource types. It links only where an
/// instance of that name provides them. For checking which interfaces a
/// host provides and a registry accepts.
pub fn importing(imports: &[(&str, &[&str])]) -> Vec<u8> {
    use wasm_encoder::{
        Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, InstanceType,
        TypeBounds,
    };
    let mut types = ComponentTypeSection::new();
    let mut section = ComponentImportSection::new();
    for (index, (name, resources)) in (0u32..).zip(imports) {
        let mut instance = InstanceType::new();
        for resource in *resources {
            instance.export(*resource, ComponentTypeRef::Type(TypeBounds::SubResource));
        }
        types.instance(&instance);
        section.import(*name, ComponentTypeRef::Instance(index));
    }
    let mut component = Component::new();
    component.section(&types).section(&section);
    component.finish()
}
