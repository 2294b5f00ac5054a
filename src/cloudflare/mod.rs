//! Everything that touches the Workers runtime, and nothing else does: the entries and their glue
//! (`entry.rs`), the vars and secrets (`settings.rs`), the D1 + KV implementation of the storage
//! traits (`store/`), the platform's services beside them (`platform/`: WebCrypto signatures,
//! outbound `fetch()`, the Rate Limiting bindings), and the
//! benchmark route (`bench.rs`, only with the `bench` feature). The rest of the crate compiles
//! and is tested on the host.

#[cfg(feature = "bench")]
pub mod bench;
pub mod entry;
pub mod platform;
pub mod settings;
pub mod store;

pub use entry::now_ms;
