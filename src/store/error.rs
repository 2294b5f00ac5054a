//! What a storage call can fail with.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A unique constraint failed; the field it names.
    Conflict(String),
    /// The backend failed; the detail is logged, never shown.
    Backend(String),
}

/// For logs: the detail of a backend failure is there, so it must not reach a response.
impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(field) => write!(f, "conflict: the {field} is taken"),
            StoreError::Backend(detail) => write!(f, "storage backend failed: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;
