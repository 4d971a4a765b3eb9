//! Host-side bindings generated from `wit/` (`hangar:plugin@0.2.0`): one
//! module per world, sharing the `types` and `host` interfaces of the
//! first; and from `wit/v0.1.0` the material world and host interface of
//! 0.1.0, so components built against it keep loading.

/// The `chat-plugin` world; owns the shared `types` and `host` interfaces.
pub mod chat {
    wasmtime::component::bindgen!({
        world: "chat-plugin",
        path: "../wit",
        // Host functions may stop the call (a spent host-call budget).
        imports: { default: trappable },
        additional_derives: [PartialEq],
    });
}

/// The `upload-hook` world.
pub mod upload {
    wasmtime::component::bindgen!({
        world: "upload-hook",
        path: "../wit",
        imports: { default: trappable },
        with: {
            "hangar:plugin/types": super::chat::hangar::plugin::types,
            "hangar:plugin/host": super::chat::hangar::plugin::host,
        },
    });
}

/// The `material` world.
pub mod material {
    wasmtime::component::bindgen!({
        world: "material",
        path: "../wit",
        imports: { default: trappable },
        with: {
            "hangar:plugin/types": super::chat::hangar::plugin::types,
            "hangar:plugin/host": super::chat::hangar::plugin::host,
        },
    });
}

pub use chat::hangar::plugin::host as host_interface;
pub use chat::hangar::plugin::types as wit;

/// `hangar:plugin@0.1.0`: its `material` world (no `structure` export) and
/// its `host` interface, which plugins built against 0.1.0 import. Its
/// types are those of 0.2.0 less the additions.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        world: "material",
        path: "../wit/v0.1.0",
        imports: { default: trappable },
    });
}
