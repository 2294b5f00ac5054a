//! Everything that touches the Workers runtime, and nothing else does: the entries and their glue
//! (`entry.rs`), the vars and secrets (`settings.rs`), the D1 + KV implementation of the storage
//! traits with the platform's WebCrypto signer and outbound `fetch()` (`store/`), and the
//! benchmark route (`bench.rs`, only with the `bench` feature). The rest of the crate compiles
//! and is tested on the host.

#[cfg(feature = "bench")]
pub mod bench;
pub mod entry;
pub mod settings;
pub mod store;

pub use entry::now_ms;
