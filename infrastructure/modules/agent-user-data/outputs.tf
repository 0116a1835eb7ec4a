output "user_data" {
  description = "The rendered installer, a bash script."
  value       = local.user_data
}

output "user_data_base64" {
  description = "The rendered installer, base64-encoded as launch templates take it."
  value       = base64encode(local.user_data)
}

output "template_sha256" {
  description = "SHA-256 of the template the installer was rendered from."
  value       = filesha256(local.template)
}
