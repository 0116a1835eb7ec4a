variable "name" {
  description = "Prefix of resource names, e.g. live-chaos-comment."
  type        = string
}

variable "identifier" {
  description = "RDS instance identifier (the library's db_instance_identifier)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the database, in at least two zones."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect to the database port (the ECS hosts: bridge-mode tasks connect from their host)."
  type        = list(string)
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "allocated_storage" {
  description = "Storage, GiB."
  type        = number
  default     = 20
}

variable "engine_version" {
  description = "MySQL major version (RDS picks the current minor and upgrades it)."
  type        = string
  default     = "8.0"
}

variable "multi_az" {
  description = "Keep a standby in a second zone (rds-instance-reboot can then fail over)."
  type        = bool
  default     = true
}

variable "db_name" {
  description = "Schema the application uses."
  type        = string
  default     = "COMMENTS_SCHEMA"
}

variable "username" {
  description = "Master user name; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "comments_user"
}

variable "backup_retention_days" {
  description = "Days of automated backups."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance. Off for the sample, so that a teardown works in one step."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days to keep the database's exported logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
