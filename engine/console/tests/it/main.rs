//! The console's integration tests: a real daemon (in-process, loopback, temporary sled store,
//! the example portfolio run on a virtual clock) answering plain HTTP requests (`http`, `imports`, `pages`) and a
//! real browser (`browser`: Debian's chromium driven through chromedriver by fantoccini).

mod browser;
mod customers;
mod http;
mod imports;
mod pages;
mod support;
