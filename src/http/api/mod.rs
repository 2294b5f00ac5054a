//! The protocol API: JSON and form endpoints for clients, resource servers and administrators
//! (discovery, tokens, introspection, revocation, userinfo, sign-up, clients, user
//! administration). Handlers parse the request, call the core and answer JSON; they return
//! `Result`, and the dispatcher turns an error into its RFC answer. Nothing here renders a page
//! or imports the browser room.

pub mod accounts;
pub mod admin;
pub mod clients;
pub mod discovery;
pub mod sign_up;
pub mod token;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod registration_tests;
#[cfg(test)]
mod users_tests;
