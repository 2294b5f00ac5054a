//! `DocumentFetcher` on Workers: `fetch()` of a client ID metadata document or a JWK Set, redirects not
//! followed, the answer and its body within `DOCUMENT_TIMEOUT_MS` (raced against a timer), the
//! body read chunk by chunk and abandoned past the caller's cap.

use super::*;
use std::future::Future;
use std::task::Poll;
use worker::{Delay, Fetch, Method, Request, RequestInit, RequestRedirect};

async fn fetch(url: &str, max_bytes: usize) -> Result<FetchedDocument, FetchError> {
    use futures_core::Stream;
    let network = |e: worker::Error| FetchError::Network(e.to_string());
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(url, &init).map_err(network)?;
    request.headers().set("accept", "application/json").map_err(network)?;
    let mut response = Fetch::Request(request).send().await.map_err(network)?;
    if response.status_code() != 200 {
        return Err(FetchError::Status(response.status_code()));
    }
    let declared = response.headers().get("content-length").ok().flatten().and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > max_bytes) {
        return Err(FetchError::TooLarge);
    }
    let cache_control = response.headers().get("cache-control").ok().flatten();
    let stream = response.stream().map_err(network)?;
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let chunk = chunk.map_err(network)?;
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(FetchedDocument { body, cache_control })
}

impl DocumentFetcher for CloudflarePlatform {
    async fn fetch_document(&self, url: &str, max_bytes: usize) -> Result<FetchedDocument, FetchError> {
        let mut work = std::pin::pin!(fetch(url, max_bytes));
        let mut timer = std::pin::pin!(Delay::from(std::time::Duration::from_millis(DOCUMENT_TIMEOUT_MS)));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = work.as_mut().poll(cx) {
                return Poll::Ready(r);
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(FetchError::Timeout));
            }
            Poll::Pending
        })
        .await
    }
}
