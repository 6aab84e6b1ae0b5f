// Command go_wire records what Go's encoding/json writes for the Calyptia API's
// pipeline-log types, so the Python client's tests can decode exactly those bytes.
//
// The structs mirror the API's wire contract (field names, pointer and slice
// types, omitempty) as the official Go types declare it. Regenerate with:
//
//	go run ./tests/go_wire > tests/samples/go_encoding_json.json
package main

import (
	"encoding/json"
	"os"
	"time"
)

type PipelineLogStatus string

type PipelineLog struct {
	ID         string            `json:"id"`
	PipelineID string            `json:"pipelineID"`
	Status     PipelineLogStatus `json:"status"`
	Lines      int               `json:"lines"`
	Logs       string            `json:"logs"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

type PipelineLogs struct {
	Items     []PipelineLog `json:"items"`
	EndCursor *string       `json:"endCursor"`
	Count     uint          `json:"count"`
}

type CreatePipelineLog struct {
	PipelineID string `json:"pipelineID"`
	Logs       string `json:"logs"`
	Lines      int    `json:"lines"`
}

type UpdatePipelineLog struct {
	ID     string             `json:"id"`
	Logs   *string            `json:"logs"`
	Lines  *int               `json:"lines"`
	Status *PipelineLogStatus `json:"status"`
}

type Created struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
}

type Updated struct {
	UpdatedAt time.Time `json:"updatedAt"`
}

type Deleted struct {
	Deleted   bool       `json:"deleted"`
	DeletedAt *time.Time `json:"deletedAt"`
}

type Error struct {
	Msg            string  `json:"error"`
	Detail         *string `json:"detail,omitempty"`
	Index          *uint   `json:"index,omitempty"`
	QuotaLimit     *int64  `json:"quotaLimit,omitempty"`
	QuotaRemaining *int64  `json:"quotaRemaining,omitempty"`
}

func main() {
	const logID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	const pipelineID = "9b2c0e8a-1d4f-4c5e-8f3a-6b7d2e1c0a9f"
	nanos := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	offset := time.Date(2024, 5, 1, 12, 0, 5, 500000000, berlin)
	whole := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var zero time.Time
	cursor := "c2VxOjQy"
	detail := "pipeline log \"x\" <not> found & gone"
	limit, remaining := int64(300), int64(0)

	done := PipelineLog{
		ID: logID, PipelineID: pipelineID, Status: "DONE", Lines: 2,
		Logs:      "[2024/02/07 10:24:50] [ info] <html> & \"quotes\"\n\u2028line\n",
		CreatedAt: nanos, UpdatedAt: offset,
	}
	fresh := PipelineLog{ID: logID, PipelineID: pipelineID, Status: "NEW", CreatedAt: whole, UpdatedAt: zero}

	samples := []struct {
		Name  string
		Value any
	}{
		{"log_done", done},
		{"log_new_zero_time", fresh},
		{"page_nil_items", PipelineLogs{}},
		{"page_empty_items", PipelineLogs{Items: []PipelineLog{}}},
		{"page_with_cursor", PipelineLogs{Items: []PipelineLog{done, fresh}, EndCursor: &cursor, Count: 7}},
		{"created", Created{ID: logID, CreatedAt: nanos}},
		{"updated", Updated{UpdatedAt: offset}},
		{"deleted", Deleted{Deleted: true, DeletedAt: &nanos}},
		{"deleted_nil_time", Deleted{Deleted: false}},
		{"error_plain", Error{Msg: "pipeline log not found"}},
		{"error_detail", Error{Msg: "not found", Detail: &detail}},
		{"error_quota", Error{Msg: "too many requests", QuotaLimit: &limit, QuotaRemaining: &remaining}},
		{"create_request_unset_lines", CreatePipelineLog{PipelineID: pipelineID}},
		{"update_request_all_nil", UpdatePipelineLog{ID: logID}},
	}
	out := map[string]string{}
	for _, s := range samples {
		b, err := json.Marshal(s.Value)
		if err != nil {
			panic(err)
		}
		out[s.Name] = string(b)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
