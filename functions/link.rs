//! The build script of every function crate: links the function's binary at a fixed address
//! (`-no-pie`).
//!
//! A position-independent binary of 16-20 MiB carries about 75,000 relative relocations,
//! which the dynamic loader applies at every cold start, copying each of the 430-odd pages of
//! `.data.rel.ro` they fall in; linked at a fixed address there is nothing to apply and those
//! pages are read from the page cache only when used (`docs/performance.md`, "Cold start").
//! The price is that the binary's own code and data do not move with ASLR (its stack, heap and
//! libraries still do); the code is Rust with no `unsafe` of ours.

fn main() {
    println!("cargo::rerun-if-changed=../link.rs");
    // Both linkers the functions are built with, the system's `cc` here and zig's for arm64
    // under cargo-lambda, take `-no-pie` after rustc's own `-pie`, the last one winning.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
