//! What the service says: the template catalogue and its defaults, the sandbox that renders
//! firm overrides, the compliance checks on them, and SMS segment counting.

pub mod segments;
pub mod syntax;
pub mod templates;
