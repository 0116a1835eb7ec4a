variable "name" {
  description = "Name of the role."
  type        = string
}

variable "images" {
  description = "The tasks' images; the role may pull those in this account's ECR (by tag or digest). Images elsewhere need no rights here."
  type        = list(string)
  default     = []
}

variable "pull_through_repository_arns" {
  description = "Repository patterns of an ECR pull-through cache (e.g. repository/ecr-public/*): the first pull creates the repository and imports the image."
  type        = list(string)
  default     = []
}

variable "log_group_arn" {
  description = "Log group the tasks' awslogs driver writes to."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets the tasks get through ECS secrets."
  type        = list(string)
  default     = []
}

variable "secret_kms_key_arns" {
  description = "KMS keys of those secrets (decrypt through Secrets Manager only)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of the role."
  type        = map(string)
  default     = {}
}
