-- Commands of the skilld plugin (see :help skilld). Call
-- require("skilld").setup({}) in your config for notifications and
-- validation on save.
if vim.g.loaded_skilld then
  return
end
vim.g.loaded_skilld = true

vim.api.nvim_create_user_command("Skills", function()
  require("skilld").open()
end, { desc = "skilld: the installed skills" })

vim.api.nvim_create_user_command("SkillsInstall", function(args)
  require("skilld").install(args.args)
end, { nargs = 1, desc = "skilld: install a skill by OCI reference" })

vim.api.nvim_create_user_command("SkillsUpgrade", function(args)
  require("skilld").upgrade(args.fargs, nil)
end, { nargs = "*", desc = "skilld: upgrade the named skills, or all" })

vim.api.nvim_create_user_command("SkillsValidate", function(args)
  local folder = args.args ~= "" and vim.fn.fnamemodify(args.args, ":p") or vim.fn.expand("%:p:h")
  require("skilld").validate((folder:gsub("/$", "")), function(err, value)
    if err then
      vim.notify("skilld: " .. err, vim.log.levels.ERROR)
    else
      vim.notify(("skilld: %s: %s, %d problems"):format(folder, value.valid and "valid" or "not valid", #value.problems))
    end
  end)
end, { nargs = "?", complete = "dir", desc = "skilld: validate a skill folder" })
