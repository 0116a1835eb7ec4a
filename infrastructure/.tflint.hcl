# tflint for infrastructure/modules: the bundled terraform ruleset with
# every rule on. (The AWS ruleset plugin is not served by the registries
# this project reaches; tests/infra/test_aws_schema.py checks resource and
# attribute names against the provider's schema instead.)
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
