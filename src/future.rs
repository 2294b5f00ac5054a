//! A small future helper shared by the protocol core and the store: two independent storage
//! calls of one request run concurrently, so they cost one round trip of latency, not two.

/// Runs two futures concurrently and returns both outputs: independent storage reads of one
/// request (the client and the grant it presents) then cost one round trip of latency, not two.
pub async fn join2<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    use std::task::Poll;
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(move |cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().expect("checked"), rb.take().expect("checked")))
        } else {
            Poll::Pending
        }
    })
    .await
}
