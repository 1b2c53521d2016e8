-- Drives `relance lsp` with Neovim's built-in LSP client, headless; run by tests/it/neovim.rs.
-- It opens RELANCE_FILE, waits for the diagnostics, then asks for completion, go to definition,
-- the outline (document symbols) and the quick fixes, applies the first fix as Neovim's own
-- `vim.lsp.buf.code_action` would (the workspace edit, then the client's didChange) and waits
-- for the diagnostics that follow, then formats; it writes what it saw as JSON to
-- RELANCE_RESULT. It judges
-- nothing (the Rust test does) and must not run without a bound: every wait has a timeout, and
-- a watchdog kills the server by pid and quits with status 3.
--
-- Neovim 0.8+ has vim.lsp.start; Debian 12 ships 0.7, where start_client + buf_attach_client do
-- the same.

local bin = assert(os.getenv('RELANCE_BIN'), 'RELANCE_BIN')
local file = assert(os.getenv('RELANCE_FILE'), 'RELANCE_FILE')
local result_path = assert(os.getenv('RELANCE_RESULT'), 'RELANCE_RESULT')
local pid_path = assert(os.getenv('RELANCE_SERVER_PID'), 'RELANCE_SERVER_PID')
local WAIT_MS = 10000

local out = { nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) }
local server_pid = nil

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function finish(code)
  write(result_path, vim.fn.json_encode(out))
  if code == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. code)
  end
end

-- The watchdog: whatever hangs, the server and Neovim end.
local watchdog = vim.loop.new_timer()
watchdog:start(60000, 0, vim.schedule_wrap(function()
  out.error = 'timed out after 60 s'
  if server_pid then
    vim.loop.kill(server_pid, 9)
  end
  finish(3)
end))

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local config = {
    name = 'relance',
    cmd = { bin, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  }
  local id
  if vim.lsp.start then
    id = vim.lsp.start(config)
  else
    id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, id)
  end
  local client = assert(vim.lsp.get_client_by_id(id), 'the client started')
  server_pid = client.rpc and client.rpc.pid
  if server_pid then
    write(pid_path, tostring(server_pid))
  end
  assert(vim.wait(WAIT_MS, function() return client.initialized end, 20), 'initialize')
  out.offset_encoding = client.offset_encoding

  -- Diagnostics, as the client stores them.
  assert(vim.wait(WAIT_MS, function() return #vim.diagnostic.get(buf) > 0 end, 20), 'diagnostics')
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(out.diagnostics, {
      message = d.message,
      code = d.code or lsp.code,
      line = d.lnum,
      col = d.col,
      severity = d.severity,
    })
  end

  local uri = vim.uri_from_bufnr(buf)
  local function at(line, character)
    return { textDocument = { uri = uri }, position = { line = line, character = character } }
  end
  local function request(method, params)
    local response, e = client.request_sync(method, params, WAIT_MS, buf)
    assert(response, method .. ': ' .. tostring(e))
    assert(not response.err, method .. ': ' .. vim.inspect(response.err))
    return response.result
  end

  -- Completion right after `goto ` (line 10, 0-based 9).
  local items = request('textDocument/completion', at(9, 9))
  items = items and (items.items or items) or {}
  out.completion = {}
  for _, item in ipairs(items) do
    table.insert(out.completion, item.label)
  end

  -- Go to definition of `reminder` in `step notice at reminder + 7 days`.
  local def = request('textDocument/definition', at(7, 18))
  if def and def[1] then
    def = def[1]
  end
  out.definition = def and { uri = def.uri, line = def.range.start.line, col = def.range.start.character }

  -- The outline: each symbol's name, kind and children, as the client received them.
  local function outline(symbols)
    local list = {}
    for _, sym in ipairs(symbols or {}) do
      table.insert(list, {
        name = sym.name,
        kind = sym.kind,
        line = sym.selectionRange and sym.selectionRange.start.line,
        children = outline(sym.children),
      })
    end
    return list
  end
  out.symbols = outline(request('textDocument/documentSymbol', { textDocument = { uri = uri } }))

  -- The quick fixes on the misspelt step, asked with the diagnostics the client holds on that
  -- line (as `vim.lsp.buf.code_action` does).
  local line_diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = 9 })) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(line_diagnostics, {
      range = {
        start = { line = d.lnum, character = d.col },
        ['end'] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
      },
      severity = d.severity,
      message = d.message,
      code = d.code or lsp.code,
      source = d.source,
    })
  end
  local actions = request('textDocument/codeAction', {
    textDocument = { uri = uri },
    range = { start = { line = 9, character = 11 }, ['end'] = { line = 9, character = 11 } },
    context = { diagnostics = line_diagnostics },
  }) or {}
  out.code_actions = {}
  for _, a in ipairs(actions) do
    table.insert(out.code_actions, a.title)
  end

  -- Applying the first fix: its workspace edit changes the buffer, the client sends didChange,
  -- and the server answers with the new diagnostics (none once the step is spelt right).
  local fix = actions[1]
  if fix and fix.edit then
    vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding or 'utf-16')
    out.fixed_line = vim.api.nvim_buf_get_lines(buf, 9, 10, false)[1]
    out.diagnostics_after_fix = vim.wait(WAIT_MS, function()
      return #vim.diagnostic.get(buf) == 0
    end, 20) and 0 or #vim.diagnostic.get(buf)
  end

  -- Formatting, applied to the buffer by the client.
  local edits = request('textDocument/formatting', {
    textDocument = { uri = uri },
    options = { tabSize = 2, insertSpaces = true },
  })
  vim.lsp.util.apply_text_edits(edits or {}, buf, client.offset_encoding or 'utf-16')
  out.formatted = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')

  client.stop()
  out.stopped = vim.wait(WAIT_MS, function() return client.is_stopped() end, 20)
end)

watchdog:stop()
if not ok then
  out.error = tostring(err)
  if server_pid then
    vim.loop.kill(server_pid, 9)
  end
  finish(2)
else
  finish(0)
end
