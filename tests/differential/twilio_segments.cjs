// Reads a JSON array of texts on stdin; writes [segments, encoding] for each, as Twilio's
// calculator (npm sms-segments-calculator) counts them.
const { SegmentedMessage } = require('sms-segments-calculator');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const counts = JSON.parse(input).map((text) => {
    const message = new SegmentedMessage(text);
    return [message.segmentsCount, message.encodingName];
  });
  process.stdout.write(JSON.stringify(counts));
});
