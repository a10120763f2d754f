-- The public API: `setup()`, `status()` for statuslines, and one function per action.
local M = {}

local did_setup = false
local global_maps = {} ---@type {mode: string|string[], lhs: string}[]

--- Highlight groups, linked to the built-in diff groups so colorschemes apply.
local function highlights()
  local links = {
    TandemAdd = 'DiffAdd',
    TandemDelete = 'DiffDelete',
    TandemConflict = 'DiffText',
    TandemHint = 'Comment',
    TandemSignAdd = 'DiffAdd',
    TandemSignDelete = 'DiffDelete',
    TandemSignChange = 'DiffChange',
    TandemSignConflict = 'WarningMsg',
    TandemTaskHeader = 'Title',
    TandemTaskPrompt = 'Question',
    TandemTaskCommand = 'Statement',
    TandemTaskOutput = 'Normal',
    TandemTaskFile = 'Directory',
    TandemTaskDim = 'Comment',
    TandemTaskError = 'ErrorMsg',
    TandemTaskDone = 'MoreMsg',
    TandemTaskWaiting = 'WarningMsg',
    TandemPlanDone = 'Comment',
    TandemPlanPending = 'Normal',
  }
  for group, target in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

local GLOBAL_ACTIONS = {
  palette = 'Open the command palette',
  task = 'Start a new task',
  tasks = 'Show the task stream',
  review = 'List the pending hunks',
  context = 'Show the Auto Context preview',
  cancel = 'Cancel the running task',
  approvals = 'Answer the pending approvals',
}

local function keymaps(maps)
  for _, m in ipairs(global_maps) do
    pcall(vim.keymap.del, m.mode, m.lhs)
  end
  global_maps = {}
  if not maps then
    return
  end
  for name, desc in pairs(GLOBAL_ACTIONS) do
    local lhs = maps[name]
    if lhs then
      local mode = name == 'task' and { 'n', 'x' } or 'n'
      vim.keymap.set(mode, lhs, '<Plug>(tandem-' .. name .. ')', { desc = 'Tandem: ' .. desc })
      table.insert(global_maps, { mode = mode, lhs = lhs })
    end
  end
end

--- Configures the plugin. Wrong options are reported (one message, naming each) and their
--- defaults used instead. Safe to call again.
---@param opts tandem.Options?
---@return boolean ok false when some option was wrong
function M.setup(opts)
  local config = require('tandem.config')
  local util = require('tandem.util')
  local problems = config.set(opts)
  if #problems > 0 then
    util.notify(
      'setup(): these options are wrong, their defaults are used instead:\n- '
        .. table.concat(problems, '\n- '),
      vim.log.levels.ERROR
    )
  end
  did_setup = true
  highlights()
  keymaps(config.options.keymaps)

  local lsp = require('tandem.lsp')
  local group = vim.api.nvim_create_augroup('tandem', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile', 'BufEnter', 'BufFilePost' }, {
    group = group,
    callback = function(args)
      lsp.attach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd('ColorScheme', { group = group, callback = highlights })
  vim.api.nvim_create_autocmd('VimLeavePre', {
    group = group,
    callback = function()
      lsp.exiting = true
    end,
  })
  require('tandem.focus').setup(group)
  require('tandem.review').setup(group)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    lsp.attach(buf)
  end
  return #problems == 0
end

--- Runs `setup()` with the defaults unless it ran already (for commands used without setup).
function M.ensure_setup()
  if not did_setup then
    M.setup()
  end
end

--- A short status for statuslines: the task state, waiting approvals and pending hunks.
--- Empty when nothing is going on. Cheap: it never talks to the backend.
---@return string
function M.status()
  if not did_setup then
    return ''
  end
  local parts = {}
  local lsp = require('tandem.lsp')
  for root, b in pairs(lsp.backends) do
    if b.state == 'crashed' or b.state == 'missing' or b.state == 'failed' then
      table.insert(
        parts,
        'backend '
          .. b.state
          .. (vim.tbl_count(lsp.backends) > 1 and (' (' .. vim.fs.basename(root) .. ')') or '')
      )
    elseif b.state == 'starting' then
      table.insert(parts, 'starting')
    end
  end
  local running = 0
  for _, task in pairs(require('tandem.tasks').tasks) do
    if require('tandem.tasks').is_active(task) then
      running = running + 1
    end
  end
  if running > 0 then
    table.insert(parts, running == 1 and 'running' or (running .. ' running'))
  end
  local approvals = #require('tandem.approvals').queue
  if approvals > 0 then
    table.insert(parts, approvals .. (approvals == 1 and ' approval' or ' approvals'))
  end
  local hunks = require('tandem.review').count()
  if hunks > 0 then
    table.insert(parts, hunks .. (hunks == 1 and ' hunk' or ' hunks'))
  end
  if #parts == 0 then
    return ''
  end
  return 'Tandem: ' .. table.concat(parts, ', ')
end

--- Starts a task (asks for the prompt when nil).
---@param prompt string?
function M.task(prompt)
  M.ensure_setup()
  require('tandem.tasks').start(prompt)
end

--- Runs an action by its `:Tandem` name, e.g. `require('tandem').run('accept')`.
---@param name string
---@param args string?
function M.run(name, args)
  require('tandem.palette').run(name, args)
end

return M
