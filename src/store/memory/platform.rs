//! The memory store as the platform of host tests: metadata documents it was told to serve (`serve_document`), no platform signer. The per-address budgets are in `audit.rs`.

use super::*;

impl MemoryStore {
    /// Serves `answer` for `url` from now on (a document, or a failure to fetch it).
    pub fn serve_document(&self, url: &str, answer: Result<FetchedDocument, FetchError>) {
        self.state.borrow_mut().documents.insert(url.to_string(), answer);
    }
    /// How many documents were fetched so far.
    pub fn fetches(&self) -> u32 {
        self.state.borrow().fetches
    }
}

impl DocumentFetcher for MemoryStore {
    async fn fetch_document(&self, url: &str, max_bytes: usize) -> Result<FetchedDocument, FetchError> {
        self.enter("fetch_document").map_err(|e| FetchError::Network(format!("{e:?}")))?;
        let mut state = self.state.borrow_mut();
        state.fetches += 1;
        let answer = state.documents.get(url).cloned().unwrap_or(Err(FetchError::Status(404)));
        answer.and_then(|d| if d.body.len() > max_bytes { Err(FetchError::TooLarge) } else { Ok(d) })
    }
}

/// Host tests sign in wasm's code path (`crypto::es256`).
impl PlatformSigner for MemoryStore {}
