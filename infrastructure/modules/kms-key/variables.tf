variable "description" {
  description = "What the key encrypts (shown in the KMS console)."
  type        = string
}

variable "log_group_names" {
  description = "CloudWatch log groups (names, * allowed) that may encrypt with the key: CloudWatch Logs is granted use of the key for exactly these."
  type        = list(string)
  default     = []
}

variable "service_principals" {
  description = "AWS services (e.g. sns.amazonaws.com) granted kms:Decrypt and kms:GenerateDataKey* on behalf of this account, for encrypted topics and queues they write to."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of the key."
  type        = map(string)
  default     = {}
}
