import { NotFoundMessage } from "@/components/dashboard/not-found-message";

// Inside the organization layout, which already gives the page its <main>.
export default function NotFound() {
  return <NotFoundMessage />;
}
