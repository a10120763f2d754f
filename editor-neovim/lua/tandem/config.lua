-- The configuration: a schema (type, default, description) that drives validation and the docs.
local M = {}

---@alias tandem.SandboxMode 'read-only'|'workspace-write'|'danger-full-access'
---@alias tandem.ApprovalPolicy 'untrusted'|'on-request'|'never'
---@alias tandem.ReviewModel 'approveBeforeWrite'|'applyThenReview'

---@class (exact) tandem.ContextConfig
---@field enabled boolean Send Auto Context (`tandem/focus`) to the backend.
---@field debounce_ms integer Wait this long after the last cursor move before sending focus.
---@field forward_diagnostics boolean Forward other servers' diagnostics to the backend.
---@field deny_globs string[] Extra globs Auto Context never sends (on top of the secret patterns).
---@field budget_tokens integer? Token budget of Auto Context (nil: the backend's, 8000).

---@class (exact) tandem.TaskConfig
---@field sandbox_mode tandem.SandboxMode? Default sandbox mode of new tasks (nil: the backend's config).
---@field approval_policy tandem.ApprovalPolicy? Default approval policy of new tasks (nil: the backend's config).
---@field model string? Model of new tasks (nil: the backend's config).
---@field profile string? A `[profiles.NAME]` of the backend's config.toml.
---@field open 'split'|'vsplit'|'tab'|'float'|'none' Where the task stream opens when a task starts.
---@field focus boolean Move the cursor into the task stream when it opens.
---@field max_output_lines integer Lines of command output shown per command (the tail).

---@class (exact) tandem.ReviewConfig
---@field model tandem.ReviewModel? Review model asked of the backend (nil: its policy decides).
---@field inline boolean Draw pending hunks in the buffer.
---@field virt_lines boolean Show the other side of a hunk as virtual lines.
---@field signs boolean Put signs in the sign column.
---@field hint boolean Show an end-of-line hint with the keys on the first line of a hunk.
---@field list 'quickfix'|'loclist' Where `:Tandem review` lists pending hunks.

---@class (exact) tandem.ApprovalsConfig
---@field auto_open boolean Open the approval picker as soon as a request arrives (in Normal mode).
---@field timeout_seconds integer? Unanswered requests count as a deny after this (nil: 120).

---@class (exact) tandem.KeymapsConfig
---@field palette string|false
---@field task string|false
---@field tasks string|false
---@field review string|false
---@field context string|false
---@field cancel string|false
---@field approvals string|false
---@field accept string|false Buffer-local while the buffer has pending hunks.
---@field reject string|false Buffer-local while the buffer has pending hunks.
---@field accept_file string|false Buffer-local while the buffer has pending hunks.
---@field reject_file string|false Buffer-local while the buffer has pending hunks.
---@field next_hunk string|false Buffer-local while the buffer has pending hunks.
---@field prev_hunk string|false Buffer-local while the buffer has pending hunks.
---@field diff string|false Buffer-local while the buffer has pending hunks.

---@class (exact) tandem.LogConfig
---@field level 'trace'|'debug'|'info'|'warn'|'error'|'off'
---@field file string? Log file (nil: `stdpath('log')/tandem.log`).

---@class (exact) tandem.Config
---@field cmd string[] The backend command; it must speak `tandem lsp`.
---@field cmd_env table<string, string> Extra environment for the backend.
---@field root_markers string[] Files or directories that mark a workspace root.
---@field autostart boolean Start the backend when a file inside a workspace is opened.
---@field context tandem.ContextConfig
---@field task tandem.TaskConfig
---@field review tandem.ReviewConfig
---@field approvals tandem.ApprovalsConfig
---@field keymaps tandem.KeymapsConfig|false `false` removes every default keymap.
---@field log tandem.LogConfig

---@class tandem.Options: tandem.Config, {}
---@field context? tandem.ContextConfig|{}
---@field task? tandem.TaskConfig|{}
---@field review? tandem.ReviewConfig|{}
---@field approvals? tandem.ApprovalsConfig|{}
---@field keymaps? tandem.KeymapsConfig|false|{}
---@field log? tandem.LogConfig|{}

---@class tandem.Spec
---@field type 'string'|'boolean'|'integer'|'list'|'map'|'enum'|'keymap'|'group'
---@field default any
---@field optional boolean?
---@field values string[]? For 'enum'.
---@field fields [string, tandem.Spec][]? For 'group', in documentation order.
---@field allow_false boolean? For 'group': `false` turns the whole group off.
---@field desc string

local function group(desc, fields, allow_false)
  return { type = 'group', desc = desc, fields = fields, allow_false = allow_false }
end
local function keymap(default, desc)
  return { type = 'keymap', default = default, desc = desc }
end

--- The schema, in documentation order.
---@type [string, tandem.Spec][]
M.schema = {
  {
    'cmd',
    {
      type = 'list',
      default = { 'tandem', 'lsp' },
      desc = 'The backend command (argv); it must speak `tandem lsp`.',
    },
  },
  { 'cmd_env', { type = 'map', default = {}, desc = 'Extra environment for the backend.' } },
  {
    'root_markers',
    {
      type = 'list',
      default = { '.git', '.tandem', 'AGENTS.md' },
      desc = 'Files or directories that mark a workspace root (one backend per root).',
    },
  },
  {
    'autostart',
    {
      type = 'boolean',
      default = true,
      desc = 'Start the backend when a file inside a workspace root is opened.',
    },
  },
  {
    'context',
    group('Auto Context.', {
      {
        'enabled',
        { type = 'boolean', default = true, desc = 'Send where you are to the backend.' },
      },
      {
        'debounce_ms',
        {
          type = 'integer',
          default = 150,
          desc = 'Wait this long after the last move before sending focus.',
        },
      },
      {
        'forward_diagnostics',
        {
          type = 'boolean',
          default = true,
          desc = "Forward other language servers' diagnostics.",
        },
      },
      {
        'deny_globs',
        {
          type = 'list',
          default = {},
          desc = 'Extra globs Auto Context never sends (on top of the built-in secret patterns).',
        },
      },
      {
        'budget_tokens',
        {
          type = 'integer',
          optional = true,
          desc = "Token budget of Auto Context (nil: the backend's, 8000).",
        },
      },
    }),
  },
  {
    'task',
    group('New tasks and the task stream.', {
      {
        'sandbox_mode',
        {
          type = 'enum',
          values = { 'read-only', 'workspace-write', 'danger-full-access' },
          optional = true,
          desc = "Sandbox mode of new tasks (nil: the backend's config).",
        },
      },
      {
        'approval_policy',
        {
          type = 'enum',
          values = { 'untrusted', 'on-request', 'never' },
          optional = true,
          desc = "Approval policy of new tasks (nil: the backend's config).",
        },
      },
      {
        'model',
        {
          type = 'string',
          optional = true,
          desc = "Model of new tasks (nil: the backend's config).",
        },
      },
      {
        'profile',
        {
          type = 'string',
          optional = true,
          desc = "A `[profiles.NAME]` table of the backend's config.toml.",
        },
      },
      {
        'open',
        {
          type = 'enum',
          values = { 'split', 'vsplit', 'tab', 'float', 'none' },
          default = 'split',
          desc = 'Where the task stream opens when a task starts.',
        },
      },
      {
        'focus',
        {
          type = 'boolean',
          default = false,
          desc = 'Move the cursor into the task stream when it opens.',
        },
      },
      {
        'max_output_lines',
        {
          type = 'integer',
          default = 40,
          desc = 'Lines of command output shown per command (the last ones).',
        },
      },
    }),
  },
  {
    'review',
    group("Inline review of the agent's changes.", {
      {
        'model',
        {
          type = 'enum',
          values = { 'approveBeforeWrite', 'applyThenReview' },
          optional = true,
          desc = "Review model asked of the backend (nil: the backend's policy decides).",
        },
      },
      {
        'inline',
        { type = 'boolean', default = true, desc = 'Draw pending hunks in the buffer.' },
      },
      {
        'virt_lines',
        {
          type = 'boolean',
          default = true,
          desc = 'Show the other side of each hunk as virtual lines.',
        },
      },
      { 'signs', { type = 'boolean', default = true, desc = 'Put signs in the sign column.' } },
      {
        'hint',
        {
          type = 'boolean',
          default = true,
          desc = 'Show the keys at the end of the first line of each hunk.',
        },
      },
      {
        'list',
        {
          type = 'enum',
          values = { 'quickfix', 'loclist' },
          default = 'quickfix',
          desc = 'Where `:Tandem review` lists the pending hunks.',
        },
      },
    }),
  },
  {
    'approvals',
    group('Approval requests.', {
      {
        'auto_open',
        {
          type = 'boolean',
          default = true,
          desc = 'Open the picker when a request arrives (waits for Normal mode).',
        },
      },
      {
        'timeout_seconds',
        {
          type = 'integer',
          optional = true,
          desc = "Unanswered requests count as a deny after this (nil: the backend's, 120).",
        },
      },
    }),
  },
  {
    'keymaps',
    group('Default keymaps; `false` removes one, or all when given for the whole table.', {
      { 'palette', keymap('<leader>aa', 'Open the command palette.') },
      { 'task', keymap('<leader>an', 'Start a new task.') },
      { 'tasks', keymap('<leader>at', 'Show the task stream.') },
      { 'review', keymap('<leader>aq', 'List the pending hunks.') },
      { 'context', keymap('<leader>ac', 'Show the Auto Context preview.') },
      { 'cancel', keymap('<leader>ax', 'Cancel the running task.') },
      { 'approvals', keymap('<leader>ap', 'Answer the pending approvals.') },
      { 'accept', keymap('<leader>ay', 'Accept the hunk under the cursor (buffer-local).') },
      { 'reject', keymap('<leader>ar', 'Reject the hunk under the cursor (buffer-local).') },
      { 'accept_file', keymap('<leader>aY', 'Accept every hunk of the file (buffer-local).') },
      { 'reject_file', keymap('<leader>aR', 'Reject every hunk of the file (buffer-local).') },
      { 'next_hunk', keymap(']h', 'Go to the next pending hunk (buffer-local).') },
      { 'prev_hunk', keymap('[h', 'Go to the previous pending hunk (buffer-local).') },
      { 'diff', keymap('<leader>ad', 'Toggle the side-by-side diff (buffer-local).') },
    }, true),
  },
  {
    'log',
    group("The plugin's own log.", {
      {
        'level',
        {
          type = 'enum',
          values = { 'trace', 'debug', 'info', 'warn', 'error', 'off' },
          default = 'warn',
          desc = 'Lowest level written.',
        },
      },
      {
        'file',
        {
          type = 'string',
          optional = true,
          desc = "Log file (nil: `stdpath('log')/tandem.log`).",
        },
      },
    }),
  },
}

--- The defaults, built from the schema.
---@return tandem.Config
function M.defaults()
  local function build(fields)
    local out = {}
    for _, entry in ipairs(fields) do
      local name, spec = entry[1], entry[2]
      if spec.type == 'group' then
        out[name] = build(spec.fields)
      else
        out[name] = vim.deepcopy(spec.default)
      end
    end
    return out
  end
  return build(M.schema)
end

local function describe(value)
  if type(value) == 'string' then
    return string.format('string %q', value)
  end
  if type(value) == 'table' then
    return vim.islist(value) and 'a list' or 'a table'
  end
  return type(value) .. ' ' .. tostring(value)
end

local function distance(a, b)
  local prev = {}
  for j = 0, #b do
    prev[j] = j
  end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- Checks one leaf value; returns an explanation when it is wrong.
---@param spec tandem.Spec
---@param value any
---@return string? problem
local function check(spec, value)
  local t = spec.type
  if t == 'string' then
    if type(value) ~= 'string' then
      return 'must be a string, got ' .. describe(value)
    end
  elseif t == 'boolean' then
    if type(value) ~= 'boolean' then
      return 'must be true or false, got ' .. describe(value)
    end
  elseif t == 'integer' then
    if type(value) ~= 'number' or value < 0 or value ~= math.floor(value) then
      return 'must be a whole number >= 0, got ' .. describe(value)
    end
  elseif t == 'enum' then
    if not vim.tbl_contains(spec.values, value) then
      return 'must be one of '
        .. table.concat(
          vim.tbl_map(function(v)
            return string.format('%q', v)
          end, spec.values),
          ', '
        )
        .. ', got '
        .. describe(value)
    end
  elseif t == 'keymap' then
    if value ~= false and (type(value) ~= 'string' or value == '') then
      return 'must be a key sequence (string) or false, got ' .. describe(value)
    end
  elseif t == 'list' then
    if type(value) ~= 'table' or not vim.islist(value) or (#value == 0 and next(value) ~= nil) then
      return 'must be a list of strings, got ' .. describe(value)
    end
    for i, item in ipairs(value) do
      if type(item) ~= 'string' then
        return string.format('must be a list of strings, but item %d is %s', i, describe(item))
      end
    end
  elseif t == 'map' then
    if type(value) ~= 'table' or (vim.islist(value) and #value > 0) then
      return 'must be a table of strings to strings, got ' .. describe(value)
    end
    for k, v in pairs(value) do
      if type(k) ~= 'string' or type(v) ~= 'string' then
        return string.format(
          'must map strings to strings, but [%s] is %s',
          tostring(k),
          describe(v)
        )
      end
    end
  end
  return nil
end

--- Merges `opts` onto the defaults, keeping the default wherever a value is wrong.
---@param opts table?
---@return tandem.Config config
---@return string[] problems one sentence each, naming the option
function M.resolve(opts)
  local problems = {}
  local defaults = M.defaults()
  if opts ~= nil and type(opts) ~= 'table' then
    table.insert(problems, 'setup() takes a table of options, got ' .. describe(opts))
    return defaults, problems
  end

  local function merge(fields, user, out, prefix)
    local known = {}
    for _, entry in ipairs(fields) do
      local name, spec = entry[1], entry[2]
      known[name] = true
      local value = user[name]
      local path = prefix .. name
      if value == nil then
        -- Keep the default.
      elseif spec.type == 'group' then
        if value == false and spec.allow_false then
          out[name] = false
        elseif type(value) ~= 'table' or (vim.islist(value) and #value > 0) then
          table.insert(
            problems,
            string.format(
              '`%s` must be a table%s, got %s',
              path,
              spec.allow_false and ' or false' or '',
              describe(value)
            )
          )
        else
          merge(spec.fields, value, out[name], path .. '.')
        end
      else
        local problem = check(spec, value)
        if problem then
          table.insert(problems, string.format('`%s` %s', path, problem))
        elseif spec.type == 'list' and #value == 0 and name == 'cmd' then
          table.insert(problems, '`cmd` must name a program, got an empty list')
        else
          out[name] = vim.deepcopy(value)
        end
      end
    end
    for key in pairs(user) do
      if not known[key] then
        local hint = ''
        for candidate in pairs(known) do
          if type(key) == 'string' and distance(key, candidate) <= 2 then
            hint = string.format(' (did you mean `%s%s`?)', prefix, candidate)
            break
          end
        end
        table.insert(
          problems,
          string.format('unknown option `%s%s`%s', prefix, tostring(key), hint)
        )
      end
    end
  end

  merge(M.schema, opts or {}, defaults, '')
  table.sort(problems)
  return defaults, problems
end

--- The options in force.
---@type tandem.Config
M.options = M.defaults()

--- Sets the options in force; returns the problems found (the defaults stand in for them).
---@param opts table?
---@return string[] problems
function M.set(opts)
  local config, problems = M.resolve(opts)
  M.options = config
  return problems
end

return M
