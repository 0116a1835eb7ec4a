variable "values" {
  description = "Parameter name (absolute, e.g. /live/app/comments/web_url) to value. Names, URLs and identifiers only: nothing secret."
  type        = map(string)

  validation {
    condition     = alltrue([for k in keys(var.values) : can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$", k))])
    error_message = "Each name must be a hierarchical SSM parameter name such as /live/app/comments/web_url."
  }
}

variable "tags" {
  description = "Tags for every parameter."
  type        = map(string)
  default     = {}
}
