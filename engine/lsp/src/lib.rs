//! `relance lsp`: the language server, over stdio.
//!
//! Editors get the diagnostics of `relance check` as you type, hover docs, go to definition
//! and references, rename, completion, quick fixes, the outline, semantic tokens and
//! formatting. Modules, one concept each:
//! - [`server`]: the LSP glue (tower-lsp-server), no analysis of its own;
//! - [`workspace`]: open documents and their scenario sets, the diagnostics pipeline;
//! - [`documents`]: one open document; [`sets`]: one scenario set read from disk;
//! - [`incremental`]: re-parsing only what an edit touched; [`shift`]: moving AST spans;
//! - [`position`]: byte offsets ↔ LSP positions (UTF-16 columns);
//! - [`diagnostics`]: checker diagnostics → LSP diagnostics;
//! - [`scan`]: a tolerant token scan, so features work on files that do not parse;
//! - [`hover`], [`definition`] (references and rename), [`completion`], [`formatting`],
//!   [`symbols`] (the outline), [`semantic`] (semantic tokens): the features; quick fixes
//!   come with the diagnostics ([`diagnostics::quick_fix`]);
//! - [`docs`]: keyword documentation; [`resources`]: template and rule files on disk.
//!
//! This module only starts the server; it must not hold state.

pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod docs;
pub mod documents;
pub mod formatting;
pub mod hover;
pub mod incremental;
pub mod position;
pub mod resources;
pub mod scan;
pub mod semantic;
pub mod server;
pub mod sets;
pub mod shift;
pub mod symbols;
pub mod workspace;

#[cfg(test)]
mod test_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tower_lsp_server::{LspService, Server};

pub use workspace::{Publish, Workspace};

/// Serves LSP on stdin/stdout until `exit`. Returns the process exit code: 0 when `shutdown`
/// came before `exit`, 1 otherwise (as the protocol asks), 2 when the runtime cannot start.
pub fn run_stdio() -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the language server: {e}");
            return 2;
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    runtime.block_on(async move {
        let (service, socket) = LspService::new(move |client| server::Backend::new(client, flag));
        // One message at a time, in order: a change is never overtaken by an older one, and
        // every handler is fast (a check of a 2,000-line file takes milliseconds).
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .concurrency_level(1)
            .serve(service)
            .await;
    });
    // The stdin reader is a blocking thread that cannot be cancelled: do not wait for it.
    runtime.shutdown_background();
    if shutdown.load(Ordering::SeqCst) {
        0
    } else {
        1
    }
}
