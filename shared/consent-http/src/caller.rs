//! Who is calling: the deployment names the authenticated caller of each request in its
//! extensions (the IAM principal in AWS, `local` on the local server), and handlers that change
//! a firm or record for it read it as [`Actor`].

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The authenticated caller of a request, as the deployment put it in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity(pub String);

/// The request's authenticated caller, if the deployment named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<CallerIdentity>()
                .map(|caller| caller.0.clone()),
        ))
    }
}
