//! Calls of a running daemon's HTTP API for the `--server` forms of the commands (`deploy`,
//! `import`): one JSON POST with the caller's token, its status and body back. It must not
//! interpret the reply: each command prints it its own way.

/// POSTs `body` as JSON to `url` with `token`; the reply's status and text, or why no reply
/// came (connection refused, runtime not built…).
pub fn post_json(
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let resp = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, text))
    })
}
