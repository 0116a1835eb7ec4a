variable "name" {
  description = "Prefix of the KMS key's description and alias, e.g. live-chaos."
  type        = string
}

variable "parameter_name" {
  description = "Name of the SSM SecureString parameter that holds the agent key file, e.g. /live/chaos/agent_key."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.parameter_name))
    error_message = "The parameter_name must be a hierarchical SSM name such as /live/chaos/agent_key."
  }
}

variable "key_id" {
  description = "Key id written in front of the key ('<key-id> <hex>'); agents and chaosctl name the key by it."
  type        = string
  default     = "k1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,32}$", var.key_id))
    error_message = "The key_id must be 1-32 characters of [A-Za-z0-9_.-]."
  }
}

variable "key_version" {
  description = "Generation of the key. The parameter's value is written only when this changes: raise it to replace the key with a fresh random one (then replace or re-provision the hosts)."
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
