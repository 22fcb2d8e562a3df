package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// Hash is the content hash of a table: its column names and types and every cell. Two tables with the same
// content have the same hash however they were made, which is what the step cache keys on.
func Hash(df dataframe.DataFrame) string {
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	field := func(s string) {
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		buf = append(buf, '\n')
		if len(buf) > 1<<15 {
			flush()
		}
	}
	field(fmt.Sprintf("ragnb-table-v1 %d %d", df.Nrow(), df.Ncol()))
	for _, name := range df.Names() {
		s := df.Col(name)
		field(name)
		field(string(s.Type()))
		if s.Type() == series.Float {
			for _, f := range s.Float() {
				buf = strconv.AppendFloat(buf, f, 'g', -1, 64)
				buf = append(buf, '\n')
			}
			continue
		}
		for i, v := range s.Records() {
			if s.Elem(i).IsNA() {
				buf = append(buf, "\x00NA\n"...)
				continue
			}
			field(v)
		}
	}
	flush()
	return hex.EncodeToString(h.Sum(nil))
}
