//! The LSP glue: capabilities, notifications and requests, mapped onto the [`Workspace`]
//! and the feature modules.
//!
//! Every handler locks the workspace, computes, unlocks, then sends; the lock is never held
//! across an `await`. Messages are handled one at a time, in order (see `run_stdio`), so a
//! change can never be overtaken by an older one. This module must not analyse text itself.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::workspace::{Publish, Workspace};
use super::{completion, definition, formatting, hover, semantic, symbols};

pub struct Backend {
    client: Client,
    workspace: Mutex<Workspace>,
    /// Set by `shutdown`: exiting after it is a clean exit (status 0).
    shutdown: Arc<AtomicBool>,
    watch_files: AtomicBool,
}

impl Backend {
    pub fn new(client: Client, shutdown: Arc<AtomicBool>) -> Backend {
        Backend {
            client,
            workspace: Mutex::new(Workspace::new()),
            shutdown,
            watch_files: AtomicBool::new(false),
        }
    }

    fn workspace(&self) -> MutexGuard<'_, Workspace> {
        // A panic in a handler must not take every later request down with it.
        self.workspace
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn send(&self, publish: Vec<Publish>) {
        for p in publish {
            self.client
                .publish_diagnostics(p.uri, p.diagnostics, p.version)
                .await;
        }
    }

    /// Runs `f` on the document's view and offset, if the document is open.
    fn at<T>(
        &self,
        doc: &TextDocumentPositionParams,
        f: impl FnOnce(&super::workspace::SetView, usize) -> T,
    ) -> Option<T> {
        let ws = self.workspace();
        let view = ws.view(&doc.text_document.uri)?;
        let offset = view.document.offset(doc.position);
        Some(f(&view, offset))
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let dynamic_watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        self.watch_files.store(dynamic_watch, Ordering::Relaxed);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(PositionEncodingKind::UTF16),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::FULL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "\"".into(), " ".into()]),
                    ..CompletionOptions::default()
                }),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: semantic::legend(),
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            ..SemanticTokensOptions::default()
                        },
                    ),
                ),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "relance".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if !self.watch_files.load(Ordering::Relaxed) {
            return;
        }
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: ["**/*.relance", "**/templates/*", "**/rules/*.rhai"]
                .into_iter()
                .map(|glob| FileSystemWatcher {
                    glob_pattern: GlobPattern::String(glob.into()),
                    kind: None,
                })
                .collect(),
        };
        let registration = Registration {
            id: "relance-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        // Not awaited here: the client answers while we go on serving.
        let client = self.client.clone();
        tokio::spawn(async move {
            let _ = client.register_capability(vec![registration]).await;
        });
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let publish = self.workspace().open(d.uri, d.text, d.version);
        self.send(publish).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        let d = params.text_document;
        let publish = self.workspace().change(&d.uri, change.text, d.version);
        self.send(publish).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let publish = self.workspace().save(&params.text_document.uri);
        self.send(publish).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let publish = self.workspace().close(&params.text_document.uri);
        self.send(publish).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths: Vec<PathBuf> = params
            .changes
            .iter()
            .filter_map(|c| c.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        let publish = self.workspace().files_changed(&paths);
        self.send(publish).await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        Ok(self
            .at(&params.text_document_position_params, hover::hover)
            .flatten())
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let found = self
            .at(
                &params.text_document_position_params,
                definition::definition,
            )
            .unwrap_or_default();
        Ok(match found.len() {
            0 => None,
            1 => found.into_iter().next().map(GotoDefinitionResponse::Scalar),
            _ => Some(GotoDefinitionResponse::Array(found)),
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let declaration = params.context.include_declaration;
        let found = self.at(&params.text_document_position, |view, offset| {
            definition::references(view, offset, declaration)
        });
        Ok(found.filter(|f| !f.is_empty()))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let items = self
            .at(&params.text_document_position, completion::complete)
            .unwrap_or_default();
        Ok((!items.is_empty()).then_some(CompletionResponse::Array(items)))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let fixes = self
            .workspace()
            .quick_fixes(&params.text_document.uri, params.range);
        Ok((!fixes.is_empty()).then(|| {
            fixes
                .into_iter()
                .map(CodeActionOrCommand::CodeAction)
                .collect()
        }))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let ws = self.workspace();
        let Some(doc) = ws.scenario_document(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(Some(DocumentSymbolResponse::Nested(
            symbols::document_symbols(doc),
        )))
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        Ok(self
            .at(&params, definition::prepare_rename)
            .flatten()
            .map(PrepareRenameResponse::Range))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let new_name = params.new_name;
        let found = self.at(&params.text_document_position, |view, offset| {
            definition::rename(view, offset, &new_name)
        });
        match found {
            None => Ok(None),
            Some(Ok(edit)) => Ok(edit),
            Some(Err(message)) => Err(tower_lsp_server::jsonrpc::Error::invalid_params(message)),
        }
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let ws = self.workspace();
        let Some(doc) = ws.scenario_document(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
            result_id: None,
            data: semantic::tokens(doc),
        })))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let ws = self.workspace();
        let Some(doc) = ws.scenario_document(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(Some(formatting::format(&doc.text, &doc.lines)))
    }
}
