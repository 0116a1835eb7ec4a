variable "name" {
  description = "Bucket name. Null: name_prefix plus a unique suffix."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of a generated bucket name, used when name is null."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS. Null: SSE-S3, for writers that support nothing else (load balancer access logs)."
  type        = string
  default     = null
}

variable "expiration_days" {
  description = "Days after which objects expire."
  type        = number
  default     = 365
}

variable "noncurrent_days" {
  description = "Days a replaced or deleted version is kept."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let a teardown delete the bucket with its objects."
  type        = bool
  default     = false
}

variable "elb_log_delivery_principal" {
  description = "Principal (the region's Elastic Load Balancing account) allowed to write access logs under AWSLogs/<this account>/. Null: nobody outside IAM writes."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of the bucket."
  type        = map(string)
  default     = {}
}
