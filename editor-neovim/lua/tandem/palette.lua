-- The command palette: every action once, behind `:Tandem {action}`, `<Plug>` maps and a picker.
local M = {}

---@class tandem.Action
---@field name string
---@field desc string
---@field run fun(args: string, cmd: table?)
---@field complete (fun(arglead: string): string[])?

local function review()
  return require('tandem.review')
end
local function tasks()
  return require('tandem.tasks')
end

--- The line range of a `:'<,'>Tandem ...` command, or of the visual selection of a mapping.
local function range_of(cmd)
  if cmd and cmd.range and cmd.range > 0 then
    return { line1 = cmd.line1, line2 = cmd.line2 }
  end
  local mode = vim.api.nvim_get_mode().mode
  if mode == 'v' or mode == 'V' or mode == '\22' then
    local a, b = vim.fn.line('v'), vim.fn.line('.')
    vim.api.nvim_feedkeys(vim.keycode('<Esc>'), 'nx', false)
    return { line1 = math.min(a, b), line2 = math.max(a, b) }
  end
  return nil
end

---@type tandem.Action[]
M.actions = {
  {
    name = 'task',
    desc = 'New task (prompt; a range or selection goes along as context)',
    run = function(args, cmd)
      tasks().start(args, { range = range_of(cmd) })
    end,
  },
  {
    name = 'tasks',
    desc = 'Show the task stream',
    run = function()
      tasks().show()
    end,
  },
  {
    name = 'cancel',
    desc = 'Cancel the running task',
    run = function()
      tasks().cancel()
    end,
  },
  {
    name = 'resume',
    desc = 'Resume a recorded task',
    run = function()
      tasks().resume()
    end,
  },
  {
    name = 'review',
    desc = 'List the pending hunks (quickfix or location list)',
    run = function(args)
      review().list(args ~= '' and args or nil)
    end,
    complete = function()
      return { 'quickfix', 'loclist' }
    end,
  },
  {
    name = 'accept',
    desc = 'Accept the hunk under the cursor',
    run = function()
      review().decide_hunk('accept')
    end,
  },
  {
    name = 'reject',
    desc = 'Reject the hunk under the cursor',
    run = function()
      review().decide_hunk('reject')
    end,
  },
  {
    name = 'accept_file',
    desc = 'Accept every hunk of this file',
    run = function()
      review().decide_file('accept')
    end,
  },
  {
    name = 'reject_file',
    desc = 'Reject every hunk of this file',
    run = function()
      review().decide_file('reject')
    end,
  },
  {
    name = 'next_hunk',
    desc = 'Go to the next pending hunk',
    run = function()
      review().jump(1)
    end,
  },
  {
    name = 'prev_hunk',
    desc = 'Go to the previous pending hunk',
    run = function()
      review().jump(-1)
    end,
  },
  {
    name = 'diff',
    desc = 'Toggle a side-by-side diff of this file and its pending hunks',
    run = function()
      review().diff()
    end,
  },
  {
    name = 'undo_turn',
    desc = 'Undo every change of a turn (apply-then-review)',
    run = function()
      review().undo_turn()
    end,
  },
  {
    name = 'context',
    desc = 'Show the Auto Context preview (a range previews it as the selection; or: on, off, toggle)',
    run = function(args, cmd)
      local focus = require('tandem.focus')
      local config = require('tandem.config')
      if args == 'on' then
        focus.set_enabled(true)
      elseif args == 'off' then
        focus.set_enabled(false)
      elseif args == 'toggle' then
        focus.set_enabled(not config.options.context.enabled)
      else
        focus.preview({ range = range_of(cmd) })
      end
    end,
    complete = function()
      return { 'on', 'off', 'toggle' }
    end,
  },
  {
    name = 'approvals',
    desc = 'Answer the pending approvals',
    run = function()
      require('tandem.approvals').ask(true)
    end,
  },
  {
    name = 'restart',
    desc = 'Restart the backend of this workspace',
    run = function()
      require('tandem.lsp').restart()
    end,
  },
  {
    name = 'stop',
    desc = 'Stop the backend of this workspace',
    run = function()
      local lsp = require('tandem.lsp')
      lsp.stop(lsp.current_root())
    end,
  },
  {
    name = 'log',
    desc = "Open the plugin's log",
    run = function()
      vim.cmd.split(vim.fn.fnameescape(require('tandem.log').path()))
    end,
  },
  {
    name = 'health',
    desc = 'Run :checkhealth tandem',
    run = function()
      vim.cmd('checkhealth tandem')
    end,
  },
}

local by_name = {}
for _, action in ipairs(M.actions) do
  by_name[action.name] = action
end

--- Runs an action by name.
---@param name string
---@param args string?
---@param cmd table? the user command's arguments
function M.run(name, args, cmd)
  require('tandem').ensure_setup()
  if name == 'palette' then
    return M.pick()
  end
  local action = by_name[name] or by_name[name:gsub('-', '_')]
  if not action then
    require('tandem.util').notify(
      string.format('unknown action `%s`; :Tandem<Tab> lists them', name),
      vim.log.levels.ERROR
    )
    return
  end
  action.run(args or '', cmd)
end

--- Opens `vim.ui.select` over every action.
function M.pick()
  vim.ui.select(M.actions, {
    prompt = 'Tandem',
    kind = 'tandem.palette',
    format_item = function(action)
      return string.format('%-12s %s', action.name, action.desc)
    end,
  }, function(action)
    if action then
      M.run(action.name, '')
    end
  end)
end

--- `:Tandem [action] [args]`.
---@param cmd table nvim_create_user_command's argument
function M.command(cmd)
  local name, rest = cmd.args:match('^%s*(%S+)%s*(.-)%s*$')
  if not name then
    return M.run('palette')
  end
  M.run(name, rest, cmd)
end

--- Completion of `:Tandem`: action names, then the action's own arguments.
---@param arglead string
---@param cmdline string
---@return string[]
function M.complete(arglead, cmdline)
  local words = vim.split(cmdline:gsub("^%s*[%d,.'<>%%$]*%s*", ''), '%s+', { trimempty = false })
  -- words[1] is the command itself.
  if #words <= 2 then
    local out = {}
    for _, action in ipairs(M.actions) do
      if vim.startswith(action.name, arglead) then
        table.insert(out, action.name)
      end
    end
    return out
  end
  local action = by_name[words[2]]
  if action and action.complete and #words == 3 then
    return vim.tbl_filter(function(c)
      return vim.startswith(c, arglead)
    end, action.complete(arglead))
  end
  return {}
end

return M
