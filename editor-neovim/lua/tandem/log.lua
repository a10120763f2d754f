-- A small leveled file logger; its path is shown by `:checkhealth tandem`.
local M = {}

local names = { [0] = 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'OFF' }
local by_name = { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 }

--- The log file's path (from the config, else `stdpath('log')/tandem.log`).
---@return string
function M.path()
  local ok, config = pcall(require, 'tandem.config')
  local file = ok and config.options and config.options.log and config.options.log.file
  if file and file ~= '' then
    return vim.fs.normalize(file)
  end
  return vim.fs.joinpath(vim.fn.stdpath('log') --[[@as string]], 'tandem.log')
end

local function threshold()
  local ok, config = pcall(require, 'tandem.config')
  local level = ok and config.options and config.options.log and config.options.log.level
  return by_name[level or 'warn'] or 3
end

--- Appends one line to the log when `level` reaches the configured threshold.
---@param level integer vim.log.levels
---@param msg string
---@param data any? inspected and appended
function M.log(level, msg, data)
  if level < threshold() then
    return
  end
  local line = string.format('%s [%s] %s', os.date('%Y-%m-%d %H:%M:%S'), names[level] or '?', msg)
  if data ~= nil then
    line = line .. ' ' .. vim.inspect(data, { newline = ' ', indent = '' })
  end
  local path = M.path()
  local fd = io.open(path, 'a')
  if not fd then
    vim.fn.mkdir(vim.fs.dirname(path), 'p')
    fd = io.open(path, 'a')
  end
  if fd then
    fd:write(line, '\n')
    fd:close()
  end
end

function M.debug(msg, data)
  M.log(vim.log.levels.DEBUG, msg, data)
end
function M.info(msg, data)
  M.log(vim.log.levels.INFO, msg, data)
end
function M.warn(msg, data)
  M.log(vim.log.levels.WARN, msg, data)
end
function M.error(msg, data)
  M.log(vim.log.levels.ERROR, msg, data)
end

return M
