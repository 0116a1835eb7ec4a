# Provider-free on purpose: this module only renders text, so `tofu test`
# runs it here without downloading any provider.
terraform {
  required_version = ">= 1.11.0"
}
